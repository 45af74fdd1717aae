require ["mime", "fileinto", "variables"];
if header :mime :param "charset" :matches "content-type" "*" { fileinto "cs-${0}"; }
if header :mime :param "boundary" :matches "content-type" "*" { fileinto "b-${0}"; }
