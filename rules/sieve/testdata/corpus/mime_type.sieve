require ["mime", "fileinto", "variables"];
if header :mime :type :is "content-type" "multipart" { fileinto "multi"; }
if header :mime :subtype :is "content-type" "plain" { fileinto "plain"; }
