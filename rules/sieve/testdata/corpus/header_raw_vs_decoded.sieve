require ["fileinto"];
if header :contains "cc" "Müller, Hans" { fileinto "decoded"; }
if header :contains "cc" "=?utf-8?q?" { fileinto "raw"; }
