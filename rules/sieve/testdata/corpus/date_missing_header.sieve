require ["date", "variables", "fileinto"];
if date :matches "x-nothing" "year" "*" { fileinto "has"; } else { fileinto "none"; }
