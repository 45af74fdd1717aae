require ["fileinto", "mailbox", "copy"];
fileinto :create :copy "New";
