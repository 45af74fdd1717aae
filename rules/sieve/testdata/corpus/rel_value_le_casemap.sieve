require ["relational", "fileinto"];
if address :value "le" :domain "from" "M" { fileinto "a-m"; }
