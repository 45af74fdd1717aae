require ["body", "fileinto"];
if body :text :contains "invoice" { fileinto "invoice"; }
if body :text :contains "sprint" { fileinto "sprint"; }
if body :text :contains "lunch" { fileinto "lunch"; }
