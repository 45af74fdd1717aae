require ["regex", "variables", "fileinto"];
if header :regex "subject" "(a|ab)(c|bcd)(d*)" { fileinto "${1}-${2}-${3}"; }
