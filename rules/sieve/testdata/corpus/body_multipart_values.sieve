require ["body", "fileinto", "relational", "comparator-i;ascii-numeric"];
if body :content "multipart" :is "" { fileinto "empty-prologue"; }
if body :content "multipart" :count "eq" :comparator "i;ascii-numeric" "1" { fileinto "one"; }
if body :content "multipart" :count "eq" :comparator "i;ascii-numeric" "2" { fileinto "two"; }
if body :content "text" :count "eq" :comparator "i;ascii-numeric" "0" { fileinto "no-text-parts"; }
