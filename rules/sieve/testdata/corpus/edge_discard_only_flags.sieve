require ["imap4flags", "fileinto"];
addflag "x";
fileinto :flags "" "Box";
