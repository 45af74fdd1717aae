if address :all :is "from" "alice@example.com" { discard; }
