require ["date", "variables", "fileinto"];
if date :originalzone "date" "date" "*" { }
if date :matches :originalzone "date" "date" "*" { fileinto "date=${0}"; }
