require ["variables", "fileinto"];
if header :matches "subject" "*\\**" { fileinto "has-star"; }
if header :matches "subject" "*$*" { fileinto "has-dollar"; }
