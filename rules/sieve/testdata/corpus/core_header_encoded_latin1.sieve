if header :contains "to" "François" { discard; }
