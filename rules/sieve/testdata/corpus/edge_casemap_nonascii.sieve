require "fileinto";
if header :contains "subject" "GRÜSSE" { fileinto "upper-umlaut"; }
if header :contains "subject" "grüße" { fileinto "lower-umlaut"; }
if header :contains "subject" "MÜNCHEN" { fileinto "ascii-only-fold"; }
