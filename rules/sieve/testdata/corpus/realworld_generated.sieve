# In the style of the scripts web mail services generate: a guard that
# returns early on spam, an environment item only that service has, and
# relational tests with variables.
require ["include", "environment", "variables", "relational", "comparator-i;ascii-numeric", "spamtest"];
require ["fileinto", "imap4flags"];

if allof (environment :matches "vnd.example.spam-threshold" "*",
          spamtest :value "ge" :comparator "i;ascii-numeric" "${1}") {
  return;
}
if allof (address :all :comparator "i;ascii-casemap" :is "From" ["billing@example.org", "invoices@example.net"],
          header :comparator "i;ascii-casemap" :matches "Subject" ["*invoice*", "*Rechnung*"]) {
  fileinto "Finance";
  addflag "\\Seen";
}
if header :comparator "i;ascii-casemap" :contains "List-Id" "example.org" {
  fileinto "Lists";
}
