require ["regex", "variables", "fileinto"];
set "p" "(";
if header :regex "subject" "${p}" { fileinto "bad"; }
fileinto "after";
