require ["date", "variables", "fileinto"];
if date :originalzone "date" "day" "*" { }
if date :matches :originalzone "date" "day" "*" { fileinto "day=${0}"; }
