if header :comparator "i;foo" :is "a" "b" { keep; }
