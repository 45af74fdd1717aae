require "copy";
redirect :copy "someone@example.com";
