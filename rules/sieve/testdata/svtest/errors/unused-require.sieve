require ["fileinto", "vacation", "envelope", "reject", "vnd.dovecot.debug"];
if header :contains "subject" "invoice" {
	fileinto "Finance";
}
