if address :is "bcc" "hidden@example.com" { discard; }
