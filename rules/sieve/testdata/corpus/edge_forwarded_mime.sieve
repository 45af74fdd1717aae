require ["mime", "fileinto", "variables"];
if header :mime :anychild :param "filename" :matches "content-disposition" "*" { fileinto "fn-${0}"; }
