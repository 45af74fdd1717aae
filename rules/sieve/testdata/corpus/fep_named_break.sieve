require ["mime", "foreverypart", "fileinto", "variables", "imap4flags"];
set "n" "";
foreverypart :name "outer" { set "n" "${n}o"; foreverypart :name "inner" { set "n" "${n}i"; break :name "outer"; } }
fileinto "n${n}";
