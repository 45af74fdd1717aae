require ["index", "relational", "fileinto", "comparator-i;ascii-numeric"];
if header :index 1 :count "eq" :comparator "i;ascii-numeric" "received" "1" { fileinto "one"; }
