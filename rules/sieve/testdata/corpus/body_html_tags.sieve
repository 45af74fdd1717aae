require ["body", "fileinto"];
if body :text :contains "<p>" { fileinto "tags-visible"; }
if body :content "text/html" :contains "<p>" { fileinto "html-raw"; }
if body :content "text" :contains "<p>" { fileinto "text-raw"; }
