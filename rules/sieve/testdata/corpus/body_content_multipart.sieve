require ["body", "fileinto"];
if body :content "multipart" :contains "multi-part message" { fileinto "prologue"; }
if body :content "multipart" :contains "hides" { fileinto "no-boundary"; }
