require ["variables", "fileinto"];
if address :all :matches ["from", "to"] "*@*" { fileinto "${1} at ${2}"; }
