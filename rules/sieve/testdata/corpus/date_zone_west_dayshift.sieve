require ["date", "variables", "fileinto"];
if date :zone "-1100" :matches "date" "date" "*" { fileinto "${0}"; }
