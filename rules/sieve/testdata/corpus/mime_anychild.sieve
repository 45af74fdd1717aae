require ["mime", "fileinto", "variables"];
if header :mime :anychild :subtype :is "content-type" "calendar" { fileinto "invite"; }
if header :mime :anychild :type :is "content-type" "application" { fileinto "app"; }
