require ["variables", "fileinto"];
if header :matches "subject" "two * froms" { fileinto "emoji:${1}"; }
