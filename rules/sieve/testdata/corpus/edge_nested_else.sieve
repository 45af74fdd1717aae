require "fileinto";
if false { fileinto "A"; } elsif false { fileinto "B"; } elsif exists "from" { if false { fileinto "C"; } else { fileinto "D"; } } else { fileinto "E"; }
