require ["date", "relational", "comparator-i;ascii-numeric", "fileinto"];
if date :value "ge" :comparator "i;ascii-numeric" :originalzone "date" "hour" "18" { fileinto "evening"; }
