require ["mime", "foreverypart", "fileinto", "variables", "imap4flags"];
set "n" "";
foreverypart { set "n" "${n}x"; if header :mime :type :is "content-type" "text" { break; } }
fileinto "n${n}";
