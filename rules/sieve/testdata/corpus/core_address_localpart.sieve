if address :localpart :is ["to", "cc"] "carol" { discard; } elsif address :localpart :is "from" "john.smith+newsletter" { keep; }
