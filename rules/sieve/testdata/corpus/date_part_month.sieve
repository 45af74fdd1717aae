require ["date", "variables", "fileinto"];
if date :originalzone "date" "month" "*" { }
if date :matches :originalzone "date" "month" "*" { fileinto "month=${0}"; }
