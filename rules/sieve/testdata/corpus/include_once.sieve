require ["include", "imap4flags"];
include :once "flags";
include :once "flags";
