require ["spamtest", "fileinto", "variables"];
if spamtest :matches "*" { fileinto "score-${0}"; }
