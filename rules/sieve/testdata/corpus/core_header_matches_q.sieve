if header :matches "subject" "x" { discard; } if header :matches "subject" "?" { keep; }
