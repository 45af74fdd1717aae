require ["fileinto", "special-use"];
if specialuse_exists "\\Junk" { fileinto "has-junk"; } else { fileinto "no-junk"; }
if specialuse_exists "INBOX" ["\\Trash", "\\Sent"] { fileinto "inbox-is-trash"; }
