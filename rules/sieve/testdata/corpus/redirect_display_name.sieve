redirect "Someone Else <someone@example.net>";
keep;
