require ["relational", "fileinto"];
if header :count "gt" "received" "10" { fileinto "string-compare"; }
