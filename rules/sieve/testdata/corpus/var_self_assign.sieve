require ["fileinto", "variables"];
set "v" "value";
set "v" "${v}";
set "w" "x";
set "w" "${w}${w}";
fileinto "${v}-${w}";
