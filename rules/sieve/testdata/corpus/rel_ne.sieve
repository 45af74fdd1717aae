require ["relational", "fileinto"];
if header :value "ne" "subject" "x" { fileinto "ne"; }
