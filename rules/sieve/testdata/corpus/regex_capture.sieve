require ["regex", "variables", "fileinto"];
if header :regex "subject" "\\[PATCH( v([0-9]+))? ([0-9]+)/([0-9]+)\\]" { fileinto "v${2}/${3}of${4}"; }
