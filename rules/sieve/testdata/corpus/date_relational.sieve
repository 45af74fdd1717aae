require ["date", "relational", "fileinto"];
if date :value "lt" :originalzone "date" "date" "2024-01-01" { fileinto "old"; }
elsif date :value "ge" :originalzone "date" "date" "2024-03-01" { fileinto "recent"; }
else { fileinto "early2024"; }
