require ["fileinto", "variables"];
if header :matches "x-empty" "" { fileinto "empty-matches-empty"; }
if header :matches "subject" "" { fileinto "subject-empty"; }
if string :matches "" "*" { fileinto "star-matches-nothing"; }
