require ["imap4flags", "fileinto"];
if header :is "x-spam-flag" "yes" { setflag "\\Seen"; fileinto "Junk"; }
