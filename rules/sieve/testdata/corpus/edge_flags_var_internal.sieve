require ["imap4flags", "variables", "fileinto"];
addflag "$A";
if hasflag :matches "$*" { fileinto "has-${1}"; }
