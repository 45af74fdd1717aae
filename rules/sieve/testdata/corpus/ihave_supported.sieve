require ["ihave", "fileinto"];
if ihave "imap4flags" { addflag "$ihave"; }
if ihave "regex" { if header :regex "subject" "^[A-Z]" { fileinto "capital"; } }
if ihave "variables" { fileinto "variables-via-ihave"; }
