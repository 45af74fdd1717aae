require ["mime", "fileinto", "variables"];
if header :mime :type :is "content-type" "text" { fileinto "text"; }
if not header :mime :anychild :type :is "content-type" "text" { fileinto "no-text"; }
