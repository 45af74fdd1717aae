# Content-Type as people write it: the :mime value options give type and
# subtype as written (case kept); a value that is not "type/subtype"
# (two slashes, no subtype, junk) leaves the part without a type, which
# only body :content "" matches, and its :contenttype is empty.
require ["fileinto", "variables", "mime", "foreverypart", "body", "relational", "comparator-i;ascii-numeric"];
foreverypart {
  if header :mime :contenttype :matches "content-type" "*" { fileinto "ct-${1}"; }
  if header :mime :type :is :comparator "i;octet" "content-type" "TEXT" { fileinto "upper-type"; }
  if header :mime :type :matches "content-disposition" "*" { fileinto "disp-${1}"; }
  if header :mime :param "filename" :matches "content-disposition" "*" { fileinto "file-${1}"; }
}
if body :content "text" :contains "Two slashes" { fileinto "slashes-text"; }
if body :content "" :contains "Two slashes" { fileinto "slashes-any"; }
if body :text :contains "No subtype" { fileinto "nosub-text"; }
if body :text :contains "Upper-case type" { fileinto "upper-text"; }
if body :content "text/plain" :count "eq" "1" { fileinto "one-text-plain"; }
