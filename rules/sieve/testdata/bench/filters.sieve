# A realistic personal filter set: 30 rules.
require ["fileinto", "imap4flags", "variables", "relational", "comparator-i;ascii-numeric", "regex", "mailbox", "subaddress", "copy"];

if header :is "X-Spam-Flag" "YES" { fileinto "Junk"; stop; }
if header :contains "X-Spam-Status" "score=1" { addflag "$MaybeSpam"; }
if address :domain :is "from" ["lottery.example", "casino.example", "pills.example"] { fileinto "Junk"; stop; }
if address :is "from" ["dana.whitfield@bigcorp.example", "mom@family.example", "board@bigcorp.example"] { addflag "\\Flagged"; }
if header :contains "List-Id" "golang-nuts" { fileinto "Lists/go"; stop; }
if header :contains "List-Id" "linux-kernel" { fileinto "Lists/lkml"; stop; }
if header :contains "List-Id" "debian-devel" { fileinto "Lists/debian"; stop; }
if header :contains "List-Id" "rust-users" { fileinto "Lists/rust"; stop; }
if header :contains "List-Id" "pgsql-general" { fileinto "Lists/pgsql"; stop; }
if header :matches "List-Id" "*<*.*>" { set :lower "list" "${2}"; fileinto :create "Lists/${list}"; stop; }
if header :contains "subject" ["invoice", "receipt", "payment due"] { fileinto "Finance"; }
if address :domain :is "from" ["bank.example", "insurance.example"] { fileinto :copy "Finance"; addflag "$Finance"; }
if header :regex "subject" "\\[PATCH( v[0-9]+)? [0-9]+/[0-9]+\\]" { addflag "$Patch"; }
if exists "Auto-Submitted" { if not header :is "Auto-Submitted" "no" { addflag "$Auto"; } }
if header :contains "Precedence" ["bulk", "list", "junk"] { addflag "$Bulk"; }
if header :count "ge" :comparator "i;ascii-numeric" "Received" "8" { addflag "$ManyHops"; }
if size :over 10M { addflag "$Large"; }
if address :detail :is "to" "shopping" { fileinto "Shopping"; }
if address :user :is "to" "postmaster" { fileinto "Admin"; }
if header :contains "from" "noreply" { addflag "$NoReply"; }
if allof (header :contains "subject" "meeting", exists "Content-Type") { addflag "$Meeting"; }
if anyof (header :contains "subject" "urgent", header :is "X-Priority" "1") { addflag "\\Flagged"; }
if header :contains "subject" "newsletter" { fileinto "Newsletters"; }
if header :contains "List-Unsubscribe" "mailto:" { addflag "$Unsubscribable"; }
if address :domain :matches "from" "*.github.example" { fileinto "Notifications/GitHub"; }
if address :domain :is "from" "calendar.example" { fileinto "Calendar"; }
if header :is "X-Mailer" "git-send-email" { addflag "$Git"; }
if header :contains "Message-ID" "JavaMail" { addflag "$Java"; }
if header :value "lt" "subject" "B" { addflag "$EarlyAlphabet"; }
if not exists "Date" { addflag "$NoDate"; }
