require "fileinto";
fileinto "INBOX";
