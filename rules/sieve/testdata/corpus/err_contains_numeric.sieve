require ["comparator-i;ascii-numeric"];
if header :contains :comparator "i;ascii-numeric" "x-number" "4" { keep; }
