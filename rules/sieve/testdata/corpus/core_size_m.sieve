if size :over 1M { discard; } elsif size :under 1G { keep; }
