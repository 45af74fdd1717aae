require ["fileinto", "copy"];
fileinto :copy "A";
fileinto :copy "B";
