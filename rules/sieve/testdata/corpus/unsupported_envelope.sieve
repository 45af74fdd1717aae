require "envelope";
if envelope :is "from" "x@y" { discard; }
