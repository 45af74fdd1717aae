require "fileinto";
if address :all :is ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "john.doe@EXAMPLE.com" { fileinto "all:john.doe@EXAMPLE.com"; }
if address :all :is ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "john.doe@example.com" { fileinto "all:john.doe@example.com"; }
if address :all :is ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "jane@example.com" { fileinto "all:jane@example.com"; }
if address :all :is ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "routed@example.com" { fileinto "all:routed@example.com"; }
if address :all :is ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "q@example.com" { fileinto "all:q@example.com"; }
if address :all :is ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "hans@example.de" { fileinto "all:hans@example.de"; }
if address :all :is ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "user@[192.0.2.1]" { fileinto "all:user@[192.0.2.1]"; }
if address :all :is ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "trailing@example.com" { fileinto "all:trailing@example.com"; }
if address :all :is ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "ok@example.com" { fileinto "all:ok@example.com"; }
if address :all :is ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "real@example.org" { fileinto "all:real@example.org"; }
if address :all :is ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "" { fileinto "all:"; }
if address :all :is ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "missing-at.example.com" { fileinto "all:missing-at.example.com"; }
if address :all :is ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "foo@bar.example" { fileinto "all:foo@bar.example"; }
if address :all :is ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "x@y.example" { fileinto "all:x@y.example"; }
if address :all :is ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "z@y.example" { fileinto "all:z@y.example"; }
if address :all :is ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "a.b.c@d.e.f" { fileinto "all:a.b.c@d.e.f"; }
if address :all :is ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] ".dotstart@example.com" { fileinto "all:.dotstart@example.com"; }
if address :all :is ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "dotend.@example.com" { fileinto "all:dotend.@example.com"; }
if address :all :is ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "\"with space\"@example.com" { fileinto "all:\"with space\"@example.com"; }
if address :all :is ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "with space@example.com" { fileinto "all:with space@example.com"; }
if address :all :is ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "ünïcödé@exämple.com" { fileinto "all:ünïcödé@exämple.com"; }
if address :all :is ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "Mailer-Daemon@EXAMPLE.NET" { fileinto "all:Mailer-Daemon@EXAMPLE.NET"; }
