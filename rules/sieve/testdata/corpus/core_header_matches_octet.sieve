if header :matches :comparator "i;octet" "subject" "your*" { discard; } elsif header :matches :comparator "i;octet" "subject" "Your*" { keep; }
