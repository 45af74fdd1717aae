require ["relational", "comparator-i;ascii-numeric", "fileinto"];
if header :value "gt" :comparator "i;ascii-numeric" "subject" "99999" { fileinto "infinite"; }
if header :value "eq" :comparator "i;ascii-numeric" "subject" "abc" { fileinto "eq-inf"; }
