require ["imap4flags", "variables"];
set "f" "";
addflag "f" "one";
addflag "f" ["two", "three"];
removeflag "f" "two";
if hasflag "f" "three" { addflag "${f}"; }
