require ["relational", "comparator-i;ascii-numeric", "fileinto"];
if header :value "gt" :comparator "i;ascii-numeric" "x-number" "9" { fileinto "gt9"; }
if header :value "lt" :comparator "i;ascii-numeric" "x-number" "8" { fileinto "lt8"; }
