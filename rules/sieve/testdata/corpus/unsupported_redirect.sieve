redirect "someone@example.com";
