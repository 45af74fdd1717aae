require ["imap4flags", "variables", "relational", "comparator-i;ascii-numeric", "fileinto"];
addflag ["$Big", "\\Seen"];
if hasflag :comparator "i;octet" "$big" { fileinto "octet-lower"; }
if hasflag :comparator "i;octet" "$Big" { fileinto "octet-exact"; }
if hasflag :count "ge" :comparator "i;ascii-numeric" "2" { fileinto "two-or-more"; }
set "mine" "a b";
if hasflag :contains "mine" "b" { fileinto "var-b"; }
