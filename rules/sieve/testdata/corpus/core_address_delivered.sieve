if address :localpart :is "delivered-to" "bob+lists" { discard; }
