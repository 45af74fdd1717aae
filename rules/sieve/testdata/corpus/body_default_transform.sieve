require ["body", "fileinto"];
if body :contains "Congratulations" { fileinto "spam"; }
if body :contains "shipped" { fileinto "shipped"; }
