require ["subaddress", "fileinto", "variables"];
if address :detail :is "delivered-to" "lists" { fileinto "by-detail"; }
if address :user :matches "from" "*" { fileinto "u-${1}"; }
