require ["body", "fileinto"];
if body :matches "*Friday*" { fileinto "friday"; }
if body :text :matches "Dear*days.*" { fileinto "dear"; }
