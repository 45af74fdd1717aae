if header :matches "subject" "*\\?" { discard; }
if header :matches "subject" "*$1,000,000*" { keep; }
