require ["mime", "fileinto", "variables"];
if header :mime :contenttype :matches "content-type" "*" { fileinto "ct-${0}"; }
