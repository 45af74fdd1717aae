require ["subaddress", "fileinto", "variables"];
if address :detail :matches "to" "*" { fileinto "detail-${1}"; }
