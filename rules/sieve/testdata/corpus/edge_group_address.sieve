require ["variables", "fileinto"];
if address :is "to" "two@g.example" { fileinto "in-group"; }
if address :is "to" "after@g.example" { fileinto "after-group"; }
