require ["body", "fileinto"];
if body :content "message/rfc822" :contains "Forwarded" { fileinto "inner-header"; }
if body :content "message/rfc822" :contains "Inner body" { fileinto "inner-body"; }
