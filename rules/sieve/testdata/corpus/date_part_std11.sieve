require ["date", "variables", "fileinto"];
if date :originalzone "date" "std11" "*" { }
if date :matches :originalzone "date" "std11" "*" { fileinto "std11=${0}"; }
