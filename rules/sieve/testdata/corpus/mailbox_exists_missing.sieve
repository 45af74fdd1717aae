require ["fileinto", "mailbox"];
if mailboxexists ["INBOX", "Nope"] { discard; }
if mailboxexists "INBOX" { fileinto "Archive"; }
