require ["mime", "foreverypart", "extracttext", "variables", "fileinto"];
set "acc" "x";
foreverypart {
  if header :mime :type :is "content-type" "text" {
    extracttext :first 12 "t";
    set "acc" "${acc}|${t}";
  }
}
fileinto "${acc}";
