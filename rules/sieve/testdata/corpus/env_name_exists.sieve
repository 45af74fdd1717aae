require ["environment", "fileinto"];
if environment :contains "name" "" { fileinto "has-name"; }
