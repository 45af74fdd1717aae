require ["fileinto", "special-use"];
if header :is "x-spam-flag" "YES" { fileinto :specialuse "\\Junk" "Spam"; }
