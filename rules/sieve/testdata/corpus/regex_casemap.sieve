require ["regex", "fileinto"];
if header :regex "subject" "invoice [0-9]+" { fileinto "ci"; }
if header :regex :comparator "i;octet" "subject" "invoice [0-9]+" { fileinto "cs"; }
