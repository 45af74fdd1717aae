if address :domain :is "sender" "lists.example.net" { discard; }
