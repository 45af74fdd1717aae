require ["fileinto"];
if header :contains "list-id" "example.org" {
	fileinto "Lists";
}
