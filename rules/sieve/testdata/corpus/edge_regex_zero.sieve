require ["regex", "variables", "fileinto"];
if header :regex "subject" "[a-z]+ [a-z]+" { fileinto "${0}"; }
