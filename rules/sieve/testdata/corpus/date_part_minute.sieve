require ["date", "variables", "fileinto"];
if date :originalzone "date" "minute" "*" { }
if date :matches :originalzone "date" "minute" "*" { fileinto "minute=${0}"; }
