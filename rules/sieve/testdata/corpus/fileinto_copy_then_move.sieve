require ["fileinto", "copy"];
fileinto :copy "Lists";
fileinto "Lists";
