require "imap4flags";
addflag ["\\seen", "\\ANSWERED", "\\draft", "\\deleted"];
