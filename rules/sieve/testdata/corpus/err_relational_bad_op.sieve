require "relational";
if header :value "gr" "a" "b" { keep; }
