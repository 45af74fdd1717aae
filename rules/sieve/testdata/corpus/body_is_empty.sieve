require ["body", "fileinto"];
if body :is "" { fileinto "empty"; }
if body :raw :is "" { fileinto "raw-empty"; }
