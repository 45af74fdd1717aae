require ["date", "variables", "fileinto"];
if date :originalzone "date" "second" "*" { }
if date :matches :originalzone "date" "second" "*" { fileinto "second=${0}"; }
