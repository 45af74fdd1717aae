require ["imap4flags", "variables"];
setflag "v" "$A $B";
addflag "${v}";
if string :is "${v}" "$A $B" { addflag "exact"; }
