if address :matches :domain "from" "*.example" { discard; }
