require ["fileinto", "variables"];
if string :is "ABC" "abc" { fileinto "is"; }
if string :contains "Lunch" "LUNCH" { fileinto "contains"; }
if string :contains :comparator "i;ascii-casemap" "Lunch" "LUNCH" { fileinto "explicit"; }
