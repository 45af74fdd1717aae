require ["include", "variables"];
global "box";
set "box" "FromInclude";
set "local" "invisible";
