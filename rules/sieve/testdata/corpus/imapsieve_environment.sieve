require ["environment", "imapsieve", "fileinto"];
if environment :is "imap.cause" "APPEND" { fileinto "appended"; }
