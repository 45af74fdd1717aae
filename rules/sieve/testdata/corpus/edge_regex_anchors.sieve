require ["regex", "fileinto", "variables"];
if header :regex "subject" "^Re: " { fileinto "reply"; }
if header :regex "x-multi" "^t(hi|wo)rd$" { fileinto "third"; }
if header :regex "subject" "(^|[^a-z])(won|prize)([^a-z]|$)" { fileinto "word-${2}"; }
