require ["variables", "fileinto"];
set "a" "foo";
if string :is "${a}" "foo" { fileinto "yes"; }
if string :contains ["x", "${a}bar"] "ob" { fileinto "contains"; }
