require ["fileinto", "imap4flags"];
addflag "$seen-by-script";
if header :contains "subject" "never-matches-xyz" { fileinto "A"; } else { stop; }
fileinto "B";
