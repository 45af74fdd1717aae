require ["fileinto", "mailbox"];
if mailboxexists "Lists" { fileinto "Lists"; } else { fileinto :create "Lists"; }
