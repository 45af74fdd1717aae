require ["variables", "fileinto"];
if header :matches :comparator "i;octet" "subject" "*?" { fileinto "[${2}]"; }
