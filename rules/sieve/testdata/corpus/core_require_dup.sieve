require ["fileinto", "fileinto"];
fileinto "X";
