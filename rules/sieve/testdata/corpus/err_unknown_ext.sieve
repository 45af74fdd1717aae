require "fileinto2";
