require ["environment", "fileinto"];
if environment :contains "no-such-item" "" { fileinto "exists"; } else { fileinto "absent"; }
