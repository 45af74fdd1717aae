require ["ihave", "fileinto"];
if header :contains "subject" "lunch" { error "lunch is not allowed here"; }
fileinto "after";
