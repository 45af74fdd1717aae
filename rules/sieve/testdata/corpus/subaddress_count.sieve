require ["subaddress", "relational", "comparator-i;ascii-numeric", "fileinto"];
if address :detail :count "ge" :comparator "i;ascii-numeric" "to" "1" { fileinto "counted"; }
