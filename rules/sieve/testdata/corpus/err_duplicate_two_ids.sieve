require "duplicate";
if duplicate :header "a" :uniqueid "b" { keep; }
