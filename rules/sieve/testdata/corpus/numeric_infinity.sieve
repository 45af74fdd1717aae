require ["fileinto","comparator-i;ascii-numeric","relational"];
if header :comparator "i;ascii-numeric" :is "x-empty" "abc" { fileinto "empty-eq-abc"; }
if header :comparator "i;ascii-numeric" :is "subject" "abc" { fileinto "subj-eq-abc"; }
if header :comparator "i;ascii-numeric" :is "x-empty" "" { fileinto "empty-eq-empty"; }
if header :comparator "i;ascii-numeric" :value "gt" "x-empty" "5" { fileinto "empty-gt-5"; }
if header :comparator "i;ascii-numeric" :value "gt" "subject" "5" { fileinto "subj-gt-5"; }
if header :comparator "i;ascii-numeric" :value "le" "from" "" { fileinto "nonnum-le-empty"; }
if header :comparator "i;ascii-numeric" :value "ge" "from" "" { fileinto "nonnum-ge-empty"; }
if header :comparator "i;ascii-numeric" :is "date" "" { fileinto "date-eq-empty"; }
if header :comparator "i;ascii-numeric" :value "gt" "x-empty" "abc" { fileinto "empty-gt-abc"; }
if header :comparator "i;ascii-numeric" :value "le" "x-empty" "abc" { fileinto "empty-le-abc"; }
