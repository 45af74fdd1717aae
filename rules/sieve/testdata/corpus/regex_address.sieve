require ["regex", "variables", "fileinto"];
if address :regex :domain "from" "^([a-z]+)\\.example$" { fileinto "dom-${1}"; }
