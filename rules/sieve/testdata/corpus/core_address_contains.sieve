if address :contains "cc" "admin" { discard; }
