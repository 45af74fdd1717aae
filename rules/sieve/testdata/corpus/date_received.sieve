require ["date", "variables", "fileinto"];
if date :matches :zone "+0000" "received" "date" "*" { fileinto "r${0}"; }
