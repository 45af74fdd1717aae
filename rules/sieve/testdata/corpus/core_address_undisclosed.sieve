if address :matches "to" "*" { discard; } if exists "to" { keep; }
