require ["variables", "fileinto"];
if header :matches "subject" "*" { set "s" "${0}"; }
if header :matches "x-nothing" "*" { set "s" "changed"; }
if string :matches "${1}" "" { fileinto "empty1"; } else { fileinto "kept:${0}"; }
