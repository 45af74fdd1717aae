require ["body", "fileinto"];
if body :text :contains "Grüße" { fileinto "nested-qp"; }
if body :text :contains "5 & more" { fileinto "html-entity"; }
if body :content "text/plain" :contains "Notes" { fileinto "notes"; }
