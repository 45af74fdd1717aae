require ["fileinto", "variables"];
if address :matches "cc" "*" { fileinto "first-cc:${0}"; }
if address :matches "bcc" "*" { fileinto "first-bcc:${0}"; }
if address :matches "mail-followup-to" "*" { fileinto "first-mft:${0}"; }
if address :matches "errors-to" "*" { fileinto "errors-to:${0}"; }
