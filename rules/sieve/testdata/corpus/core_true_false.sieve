if false { discard; } if true { keep; } if not true { discard; }
