require ["date", "variables", "fileinto"];
if date :originalzone "date" "julian" "*" { }
if date :matches :originalzone "date" "julian" "*" { fileinto "julian=${0}"; }
