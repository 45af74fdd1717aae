if address :domain :is :comparator "i;octet" "to" "Example.ORG" { discard; }
