require ["vacation"];
if header :contains "subject" "a" { vacation "away"; }
if header :contains "subject" "b" { vacation "away"; }
if header :contains "subject" "c" { vacation "away"; }
frobnicate;
frobnicate;
