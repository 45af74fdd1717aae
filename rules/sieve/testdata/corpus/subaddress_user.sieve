require ["subaddress", "fileinto"];
if address :user :is "to" "bob" { fileinto "bob"; }
