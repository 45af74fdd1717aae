require ["fileinto"];
require "imap4flags";
fileinto "Box";
