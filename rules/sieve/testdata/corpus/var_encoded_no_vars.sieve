require ["fileinto", "encoded-character"];
if header :contains "subject" "${hex:4c 75 6e 63 68}" { fileinto "lunch"; }
