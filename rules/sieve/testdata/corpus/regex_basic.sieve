require ["regex", "fileinto"];
if header :regex "subject" "^\\[PATCH" { fileinto "patches"; }
