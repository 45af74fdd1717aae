require ["body", "fileinto"];
if body :comparator "i;octet" :contains "congratulations" { fileinto "lower"; }
if body :comparator "i;octet" :contains "Congratulations" { fileinto "exact"; }
