require ["regex", "fileinto"];
if header :regex "from" "(lottery|kernel|shop)\\.example" { fileinto "known"; }
