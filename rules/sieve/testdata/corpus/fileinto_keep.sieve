require "fileinto";
fileinto "A";
keep;
