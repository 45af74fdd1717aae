require ["mime", "foreverypart", "fileinto", "variables", "imap4flags"];
foreverypart { if header :mime :type :is "content-type" "image" { fileinto "img"; stop; } }
fileinto "after";
