require ["date", "variables", "fileinto"];
if date :originalzone "date" "year" "*" { }
if date :matches :originalzone "date" "year" "*" { fileinto "year=${0}"; }
