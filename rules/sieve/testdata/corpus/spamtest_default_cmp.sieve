require ["spamtest", "relational", "fileinto"];
if spamtest :value "ge" "5" { fileinto "ge5"; }
