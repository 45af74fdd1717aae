# notifications.sieve — a Sieve step of the example "inbox" ruleset.
#
# mailwarden runs Sieve over mail that is already in a mailbox (RFC 6785):
# the implicit keep leaves a message where it is, `fileinto` without `keep`
# moves it, and imap4flags change its flags in place.
require ["fileinto", "mailbox", "imap4flags"];

# Machine-generated notifications (CI, monitoring, "no-reply" senders) go
# to their own folder, created on first use (:create, RFC 5490).
if anyof (address :is :localpart "from" ["notifications", "noreply", "no-reply"],
          header :is "Auto-Submitted" "auto-generated") {
    fileinto :create "Notifications";
    stop;
}

# Out-of-office and other automatic replies (RFC 3834) stay in the inbox,
# marked read and labelled so they are easy to hide.
if header :matches "Auto-Submitted" "auto-replied*" {
    addflag ["\\Seen", "autoreply"];
}
