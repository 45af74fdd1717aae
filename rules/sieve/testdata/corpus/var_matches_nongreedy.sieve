require ["variables", "fileinto"];
if header :matches "subject" "* *" { fileinto "first=${1}"; }
if header :matches "subject" "*o*o*" { fileinto "${1}|${2}|${3}"; }
