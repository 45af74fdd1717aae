require ["mime", "foreverypart", "fileinto", "variables", "imap4flags"];
set "n" "";
foreverypart { foreverypart { set "n" "${n}i"; } set "n" "${n}|"; }
fileinto "n${n}";
