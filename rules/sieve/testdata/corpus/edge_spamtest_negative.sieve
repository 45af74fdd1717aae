require ["spamtest", "fileinto", "variables"];
if spamtest :matches "*" { fileinto "s${0}"; }
