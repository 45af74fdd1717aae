require "imap4flags";
addflag ["$X", "$x", "$X"];
