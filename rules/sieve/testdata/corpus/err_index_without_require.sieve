if header :index 1 "subject" "x" { keep; }
