require "imap4flags";
addflag "a";
keep :flags "b";
