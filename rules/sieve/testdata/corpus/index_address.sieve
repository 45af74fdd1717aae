require ["index", "variables", "fileinto"];
if address :index 1 :matches "to" "*" { fileinto "to1=${0}"; }
