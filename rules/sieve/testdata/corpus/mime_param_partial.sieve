require ["mime", "fileinto", "relational", "variables"];
if header :mime :param ["name", "boundary"] :value "le" "content-type" "*" { fileinto "missing-name-counts"; }
if header :mime :param ["name", "boundary"] :matches "content-type" "*" { fileinto "first-${0}"; }
if header :mime :param ["name", "charset"] :is "content-type" "" { fileinto "none-present"; }
