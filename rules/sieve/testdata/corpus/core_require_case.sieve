require "FileInto";
fileinto "X";
