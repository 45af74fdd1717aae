if header :contains "subject" "YOU HAVE WON" { discard; }
