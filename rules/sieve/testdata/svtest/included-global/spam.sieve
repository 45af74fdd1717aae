require ["fileinto", "include"];
if header :is "x-spam-flag" "YES" {
	fileinto "Junk";
	stop;
}
return;
