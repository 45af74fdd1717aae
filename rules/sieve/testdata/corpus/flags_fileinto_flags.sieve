require ["imap4flags", "fileinto"];
addflag "x";
fileinto :flags ["\\Seen", "y"] "Box";
fileinto "Other";
