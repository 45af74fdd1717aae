require ["body", "fileinto"];
if body :text :contains "Second body" { fileinto "b64-in-digest"; }
if body :text :contains "First body" { fileinto "first"; }
