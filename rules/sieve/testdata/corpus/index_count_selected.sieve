# header :count with :index counts the selected field: 1 when it exists.
require ["fileinto", "index", "relational"];
if header :index 1 :count "eq" "to" "1" { fileinto "to-1"; }
if header :index 2 :count "eq" "to" "0" { fileinto "no-second-to"; }
