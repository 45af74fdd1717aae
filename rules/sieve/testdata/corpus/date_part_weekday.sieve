require ["date", "variables", "fileinto"];
if date :originalzone "date" "weekday" "*" { }
if date :matches :originalzone "date" "weekday" "*" { fileinto "weekday=${0}"; }
