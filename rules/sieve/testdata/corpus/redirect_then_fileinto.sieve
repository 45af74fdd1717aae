require ["fileinto"];
if header :contains "subject" "a" { redirect "archive@example.net"; }
fileinto "Lists";
