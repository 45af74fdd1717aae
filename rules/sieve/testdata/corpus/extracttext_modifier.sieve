require ["mime", "foreverypart", "extracttext", "variables", "fileinto"];
foreverypart { if header :mime :subtype :is "content-type" "plain" { extracttext :upper :first 5 "t"; fileinto "${t}"; break; } }
