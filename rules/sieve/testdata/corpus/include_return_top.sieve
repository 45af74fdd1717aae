require ["include", "fileinto"];
if exists "subject" { return; }
fileinto "NoSubject";
