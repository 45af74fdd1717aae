require ["date", "variables", "fileinto"];
if date :originalzone "date" "iso8601" "*" { }
if date :matches :originalzone "date" "iso8601" "*" { fileinto "iso8601=${0}"; }
