# :mime :anychild reads the names in list order, each through every part:
# the first value is the first part's Content-Transfer-Encoding, not the
# top-level Content-Type.
require ["fileinto", "variables", "mime"];
if header :mime :anychild :matches ["Content-Transfer-Encoding","Content-Type"] "*" { fileinto "first-${1}"; }
