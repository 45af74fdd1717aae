if header :contains "subject" "lunch" { discard; }
elsif header :contains "subject" "invoice" { keep; }
else { stop; }
