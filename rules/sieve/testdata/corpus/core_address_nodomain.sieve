if address :is "cc" "root" { discard; } if address :domain :is "cc" "" { keep; }
