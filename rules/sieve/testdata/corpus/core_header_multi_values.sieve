if header :is "x-multi" "second" { discard; }
