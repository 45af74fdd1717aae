require ["variables", "fileinto", "relational", "comparator-i;ascii-numeric"];
set "e" "";
if string :count "eq" :comparator "i;ascii-numeric" ["a", "${e}", "b"] "2" { fileinto "two"; }
