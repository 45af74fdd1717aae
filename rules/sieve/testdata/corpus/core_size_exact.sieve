if size :over 0 { keep; } if size :under 1 { discard; }
