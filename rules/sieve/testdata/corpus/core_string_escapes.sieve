if header :is "subject" "Lunch on Friday\?" { discard; }
if header :contains "subject" "\L\u\n\c\h" { keep; }
