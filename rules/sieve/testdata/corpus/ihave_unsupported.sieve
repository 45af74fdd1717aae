require ["ihave", "fileinto"];
if ihave "x-no-such-extension" { frobnicate :tag "whatever"; fileinto "never"; } else { fileinto "fallback"; }
