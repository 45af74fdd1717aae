require ["variables", "fileinto"];
set :quotewildcard "p" "a*b?c\\d";
fileinto "${p}";
if string :matches "a*b?c\\d" "${p}" { fileinto "matched"; }
if string :matches "axxbyc\\d" "${p}" { fileinto "wrong"; }
