require ["body", "fileinto"];
if body :content ["text/plain", "image/png"] :contains "iVBOR" { fileinto "raw-b64"; }
if body :content ["text/plain", "text/html"] :contains "tip 1" { fileinto "tip"; }
