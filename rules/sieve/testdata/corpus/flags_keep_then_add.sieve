require "imap4flags";
addflag "z";
keep;
addflag "y";
