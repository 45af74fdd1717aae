require "fileinto";
if address :localpart :is :comparator "i;octet" ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "john.doe" { fileinto "loc:john.doe"; }
if address :localpart :is :comparator "i;octet" ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "jane" { fileinto "loc:jane"; }
if address :localpart :is :comparator "i;octet" ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "routed" { fileinto "loc:routed"; }
if address :localpart :is :comparator "i;octet" ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "quoted\"name" { fileinto "loc:quoted\"name"; }
if address :localpart :is :comparator "i;octet" ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "q" { fileinto "loc:q"; }
if address :localpart :is :comparator "i;octet" ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "hans" { fileinto "loc:hans"; }
if address :localpart :is :comparator "i;octet" ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "user" { fileinto "loc:user"; }
if address :localpart :is :comparator "i;octet" ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "trailing" { fileinto "loc:trailing"; }
if address :localpart :is :comparator "i;octet" ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "real" { fileinto "loc:real"; }
if address :localpart :is :comparator "i;octet" ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "" { fileinto "loc:"; }
if address :localpart :is :comparator "i;octet" ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "a.b.c" { fileinto "loc:a.b.c"; }
if address :localpart :is :comparator "i;octet" ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] ".dotstart" { fileinto "loc:.dotstart"; }
if address :localpart :is :comparator "i;octet" ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "dotend." { fileinto "loc:dotend."; }
if address :localpart :is :comparator "i;octet" ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "with space" { fileinto "loc:with space"; }
if address :localpart :is :comparator "i;octet" ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "ünïcödé" { fileinto "loc:ünïcödé"; }
if address :localpart :is :comparator "i;octet" ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "Mailer-Daemon" { fileinto "loc:Mailer-Daemon"; }
