# body: a multipart contributes its prologue and, when not empty, its
# epilogue (RFC 5173 §5.2); body :text reads XHTML as text; a part with an
# unknown Content-Transfer-Encoding has no content (RFC 2045 §6.4).
require ["body", "fileinto", "relational", "comparator-i;ascii-numeric"];
if body :content "multipart" :contains "end of the inner multipart" { fileinto "inner-epilogue"; }
if body :content "multipart" :contains "end of the outer multipart" { fileinto "outer-epilogue"; }
if body :content "multipart" :count "eq" "1" { fileinto "multipart-1"; }
if body :content "multipart" :count "eq" "2" { fileinto "multipart-2"; }
if body :content "multipart" :count "eq" "3" { fileinto "multipart-3"; }
if body :content "multipart" :count "eq" "4" { fileinto "multipart-4"; }
if body :text :contains "Hello in XHTML" { fileinto "xhtml-text"; }
if body :text :contains "<body>" { fileinto "markup"; }
if body :text :contains "unknown encoding" { fileinto "unknown-cte"; }
if body :content "text/html" :contains "unknown encoding" { fileinto "unknown-cte-content"; }
if body :content "application/xhtml+xml" :contains "<body>" { fileinto "xhtml-content"; }
