if address :localpart :contains "cc" "odd" { discard; }
