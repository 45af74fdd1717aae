require "fileinto";
fileinto "Lists/kernel/patches";
