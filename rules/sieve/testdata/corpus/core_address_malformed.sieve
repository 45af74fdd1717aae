if address :contains "from" "example" { discard; } if address :contains "to" "user" { keep; }
