require ["variables", "fileinto"];
if header :matches "from" "*@*" { if string :matches "${2}" "*.*" { fileinto "${1}_${2}"; } }
