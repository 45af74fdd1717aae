require ["regex", "variables", "fileinto"];
set :quoteregex "q" "a.b*c";
if string :regex "a.b*c" "^${q}$" { fileinto "quoted"; }
if string :regex "aXbbbc" "^${q}$" { fileinto "unquoted"; }
