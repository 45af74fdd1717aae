require "fileinto";
fileinto :create "A";
