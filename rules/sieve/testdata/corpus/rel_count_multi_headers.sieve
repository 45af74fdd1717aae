require ["relational", "comparator-i;ascii-numeric", "fileinto"];
if header :count "eq" :comparator "i;ascii-numeric" ["x-multi", "subject"] "4" { fileinto "four"; }
