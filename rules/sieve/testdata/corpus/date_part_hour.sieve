require ["date", "variables", "fileinto"];
if date :originalzone "date" "hour" "*" { }
if date :matches :originalzone "date" "hour" "*" { fileinto "hour=${0}"; }
