if exists "X-Does-Not-Exist" { discard; } else { keep; }
