require ["regex", "variables", "fileinto"];
if header :regex "from" "^(.)(.)" { fileinto "${1}+${2}"; }
