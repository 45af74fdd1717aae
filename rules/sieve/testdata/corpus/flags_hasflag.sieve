require "imap4flags";
addflag ["$A", "\\Seen"];
if hasflag "$a" { addflag "has-a"; }
if hasflag :contains "seen" { addflag "has-seen"; }
if hasflag "$B" { addflag "has-b"; }
