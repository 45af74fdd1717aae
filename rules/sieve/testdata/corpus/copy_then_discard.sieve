require ["fileinto", "copy"];
fileinto :copy "A";
discard;
