require ["date", "variables", "fileinto"];
if date :originalzone "date" "zone" "*" { }
if date :matches :originalzone "date" "zone" "*" { fileinto "zone=${0}"; }
