# i;unicode-casemap (RFC 5051): titlecase and full decomposition, matched
# over whole characters; match variables keep the value's own text.
require ["fileinto", "variables", "relational", "comparator-i;unicode-casemap"];
if header :contains :comparator "i;unicode-casemap" "subject" ["grüsse", "MÜNCHEN", "СЧЁТ"] { fileinto "contains"; }
if header :is :comparator "i;unicode-casemap" "to" "FRANÇOIS <FRANCOIS@EXAMPLE.FR>" { fileinto "is"; }
if header :matches :comparator "i;unicode-casemap" "subject" "*ü*" { fileinto "matches-${2}"; }
if address :localpart :is :comparator "i;unicode-casemap" "errors-to" "ÜNÏCÖDÉ" { fileinto "address"; }
if header :value "lt" :comparator "i;unicode-casemap" "subject" "b" { fileinto "lt-b"; }
