require ["spamtest", "relational", "comparator-i;ascii-numeric", "fileinto"];
if spamtest :value "ge" :comparator "i;ascii-numeric" "8" { fileinto "Spam"; }
elsif spamtest :value "ge" :comparator "i;ascii-numeric" "2" { fileinto "Maybe"; }
elsif spamtest :is "0" { fileinto "Untested"; }
