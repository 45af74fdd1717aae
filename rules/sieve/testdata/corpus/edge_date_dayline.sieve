require ["date", "variables", "fileinto"];
if date :zone "+1400" :matches "date" "date" "*" { fileinto "${0}"; }
