# hasflag keys are flag lists (RFC 5232 §4): "b A" is the two flags b and
# A, each matched on its own.
require ["fileinto", "imap4flags", "variables", "relational", "comparator-i;ascii-numeric"];
setflag "A B";
if hasflag ["b", "A"] { fileinto "list"; }
if hasflag :is "b A" { fileinto "string"; }
if hasflag :is "c d" { fileinto "none"; }
set "v" "NonJunk Junk gnus-forward $Forwarded";
if hasflag :contains "v" "junk forward" { fileinto "contains"; }
if hasflag :count "eq" :comparator "i;ascii-numeric" "v" "4" { fileinto "count"; }
if hasflag "" { fileinto "empty"; }
