if header :matches "subject" "*[PATCH*]*" { discard; }
