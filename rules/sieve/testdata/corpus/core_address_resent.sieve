if address :is "resent-from" "relay@forward.example" { discard; }
