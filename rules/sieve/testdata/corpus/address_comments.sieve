# Comments are no part of an address (RFC 5322 §3.2.2), even inside the
# addr-spec: "tss(no spam)@fi.example" is tss@fi.example; the phrase and
# comments are never matched.
require ["fileinto", "variables"];
if address :is "cc" "tss@fi.example" { fileinto "comment-skipped"; }
if address :all :matches "from" "*" { fileinto "from-${1}"; }
if address :localpart :is "from" "stephan" { fileinto "localpart"; }
if address :contains :all "from" "author" { fileinto "comment-matched"; }
if address :contains :all ["to", "from"] ["Example", "Harry"] { fileinto "phrase-matched"; }
