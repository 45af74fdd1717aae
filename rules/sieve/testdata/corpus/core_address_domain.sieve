if address :domain :is "from" "sales.example.com" { discard; } elsif address :domain :is ["to","cc"] "example.org" { keep; }
