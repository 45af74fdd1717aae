require ["mime", "fileinto", "variables"];
if header :mime :anychild :param "filename" :matches "content-disposition" "*.pdf" { fileinto "pdf"; }
if header :mime :anychild :param "name" :matches "content-type" "*.png" { fileinto "png"; }
