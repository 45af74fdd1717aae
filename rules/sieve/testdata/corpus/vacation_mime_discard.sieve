require ["vacation"];
if header :contains "subject" "x" { discard; }
vacation :days 400 :mime "Content-Type: text/plain; charset=utf-8

Away.";
