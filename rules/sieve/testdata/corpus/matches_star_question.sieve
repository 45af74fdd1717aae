require ["fileinto"];
if string :matches "abxc-abyc" "a*b?c" { fileinto "star-then-question"; }
if string :matches "ab" "a*b" { fileinto "simple"; }
