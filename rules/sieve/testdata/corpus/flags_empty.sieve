require "imap4flags";
addflag "";
addflag " ";
