if header :iss "a" "b" { keep; }
