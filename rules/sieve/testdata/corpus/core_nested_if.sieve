require "fileinto";
if exists "from" {
  if exists "to" {
    if header :contains "from" "example" { fileinto "Nested"; } else { discard; }
  }
}
