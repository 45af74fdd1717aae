require ["relational", "fileinto"];
if header :value "gt" "subject" "M" { fileinto "after-m"; }
