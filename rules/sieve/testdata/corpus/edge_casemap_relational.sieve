require ["relational", "fileinto"];
if header :value "eq" "subject" "LUNCH ON FRIDAY?" { fileinto "eq-fold"; }
if header :value "eq" :comparator "i;octet" "subject" "LUNCH ON FRIDAY?" { fileinto "eq-octet"; }
