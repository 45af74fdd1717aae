# Extensions the script requires but never uses are not an error, even
# when mailwarden does not implement them.
require ["fileinto", "copy", "vacation", "envelope", "reject", "enotify"];
if header :contains "subject" ["invoice", "Rechnung"] { fileinto "Finance"; }
