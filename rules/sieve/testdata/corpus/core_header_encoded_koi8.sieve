if header :contains "x-cyrillic" "Привет" { discard; }
