require ["body", "fileinto"];
if body :text :contains "“Smart quotes”" { fileinto "cp1252"; }
if body :text :contains "€ euro" { fileinto "euro"; }
