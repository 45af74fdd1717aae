require ["spamtestplus", "fileinto", "variables"];
if spamtest :percent :matches "*" { fileinto "pct-${0}"; }
