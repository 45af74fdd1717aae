# exists :mime :anychild: each name must exist in some part, not all of
# them in the same one.
require ["fileinto", "mime"];
if exists :mime :anychild ["X-Outer", "X-Inner"] { fileinto "both"; }
if exists :mime :anychild ["X-Outer", "X-Broken", "Subject"] { fileinto "three"; }
if exists :mime :anychild ["X-Outer", "X-Nonsense"] { fileinto "nonsense"; }
if exists :mime :anychild "Content-Type" { fileinto "content-type"; }
