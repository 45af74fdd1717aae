require ["variables", "fileinto"];
if address :count "eq" :comparator "i;ascii-numeric" "from" "2" { fileinto "two"; }
if header :matches "from" "Second*" { fileinto "second-seen"; }
