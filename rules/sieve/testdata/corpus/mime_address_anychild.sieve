require ["mime", "fileinto", "variables"];
if address :mime :anychild :is "from" "fwd@inner.example" { fileinto "inner-from"; }
