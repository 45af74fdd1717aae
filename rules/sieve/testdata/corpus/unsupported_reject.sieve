require "reject";
reject "no thanks";
