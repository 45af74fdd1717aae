if header :count "eq" "a" "1" { keep; }
