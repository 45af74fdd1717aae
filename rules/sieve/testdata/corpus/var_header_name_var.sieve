require ["variables", "fileinto"];
set "h" "subject";
if header :contains "${h}" "patch" { fileinto "patch"; }
