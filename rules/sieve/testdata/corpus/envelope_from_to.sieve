require ["envelope", "fileinto", "variables"];
if envelope :matches "from" "*" { fileinto "from-${1}"; }
if envelope :localpart :matches "to" "*" { fileinto "to-${1}"; }
