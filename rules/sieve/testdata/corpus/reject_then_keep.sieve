require ["reject"];
if header :contains "subject" "zzz-never" { reject "no"; }
keep;
