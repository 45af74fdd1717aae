require ["relational", "comparator-i;ascii-numeric", "fileinto"];
if header :value "ge" :comparator "i;ascii-numeric" "x-number" "42" { fileinto "ge42"; }
if header :value "lt" :comparator "i;ascii-numeric" "x-big-number" "1" { fileinto "lt1"; }
