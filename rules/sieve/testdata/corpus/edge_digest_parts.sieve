require ["mime", "foreverypart", "variables", "fileinto"];
set "acc" "x";
foreverypart { if header :mime :contenttype :matches "content-type" "*" { set "acc" "${acc},${0}"; } }
fileinto "${acc}";
