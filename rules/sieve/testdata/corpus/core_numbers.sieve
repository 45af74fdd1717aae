if size :over 0K { keep; } if size :under 00012 { discard; }
