if header :matches "x-multi" "*" { discard; }
