require ["body", "fileinto"];
if body :text :contains "42,00 €" { fileinto "qp"; }
if body :text :contains "go to bed early" { fileinto "b64"; }
if body :text :contains "Schöne Grüße" { fileinto "latin1"; }
if body :text :contains "café" { fileinto "utf8"; }
