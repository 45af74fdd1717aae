require "imap4flags";
addflag "a";
setflag "b";
