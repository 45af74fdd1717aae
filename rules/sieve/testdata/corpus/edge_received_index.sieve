require ["date", "index", "variables", "fileinto"];
if date :index 1 :last :zone "+0000" :matches "received" "time" "*" { fileinto "first-hop-${0}"; }
if date :index 1 :zone "+0000" :matches "received" "time" "*" { fileinto "last-hop-${0}"; }
