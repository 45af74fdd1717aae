if string :is "a" "a" { keep; }
