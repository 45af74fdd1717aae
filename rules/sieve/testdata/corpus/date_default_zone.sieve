require ["date", "variables", "fileinto"];
if date :matches "date" "time" "*" { fileinto "${0}"; }
