require ["date", "relational", "comparator-i;ascii-numeric", "fileinto"];
if date :count "eq" :comparator "i;ascii-numeric" "date" "date" "1" { fileinto "one-date"; }
