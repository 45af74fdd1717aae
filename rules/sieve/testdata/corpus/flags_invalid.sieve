require "imap4flags";
addflag ["\\Bogus", "ok", "a(b"];
