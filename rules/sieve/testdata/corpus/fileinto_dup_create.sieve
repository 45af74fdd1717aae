require ["fileinto", "mailbox"];
fileinto "Lists";
fileinto :create "Lists";
