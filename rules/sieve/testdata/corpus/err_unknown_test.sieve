if headr :is "a" "b" { keep; }
