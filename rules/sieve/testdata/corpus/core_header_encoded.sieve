if header :contains "subject" "Grüße" { discard; } if header :contains "from" "Jörg" { keep; }
