require ["date", "variables", "fileinto"];
if date :originalzone "date" "time" "*" { }
if date :matches :originalzone "date" "time" "*" { fileinto "time=${0}"; }
