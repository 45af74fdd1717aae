require ["variables"];
if address :matches :localpart "from" "*" { set "who" "${1}"; }
redirect "${who}-copy@example.net";
