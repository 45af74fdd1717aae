require ["fileinto", "mailbox"];
fileinto :create "New/Box";
