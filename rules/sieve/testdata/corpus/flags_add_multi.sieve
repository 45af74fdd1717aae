require "imap4flags";
addflag ["\\Seen", "$Label1"];
addflag "$Label2 $Label3";
