require "fileinto";
if address :domain :is :comparator "i;octet" ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "EXAMPLE.com" { fileinto "dom:EXAMPLE.com"; }
if address :domain :is :comparator "i;octet" ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "example.com" { fileinto "dom:example.com"; }
if address :domain :is :comparator "i;octet" ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "[192.0.2.1]" { fileinto "dom:[192.0.2.1]"; }
if address :domain :is :comparator "i;octet" ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "example.de" { fileinto "dom:example.de"; }
if address :domain :is :comparator "i;octet" ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "bar.example" { fileinto "dom:bar.example"; }
if address :domain :is :comparator "i;octet" ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "y.example" { fileinto "dom:y.example"; }
if address :domain :is :comparator "i;octet" ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "d.e.f" { fileinto "dom:d.e.f"; }
if address :domain :is :comparator "i;octet" ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "exämple.com" { fileinto "dom:exämple.com"; }
if address :domain :is :comparator "i;octet" ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "EXAMPLE.NET" { fileinto "dom:EXAMPLE.NET"; }
if address :domain :is :comparator "i;octet" ["to","cc","bcc","reply-to","resent-cc","mail-followup-to","errors-to","sender"] "" { fileinto "dom:"; }
