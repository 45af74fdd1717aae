require ["variables", "fileinto"];
if header :matches "subject" "*: *" { fileinto "${1}/${2}"; }
