require ["subaddress", "fileinto"];
if address :detail :is "from" "" { fileinto "empty-detail"; }
if address :detail :matches "from" "*" { fileinto "any-detail"; }
