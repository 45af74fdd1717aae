require ["mime", "fileinto", "variables"];
if header :mime :anychild :type :is "content-disposition" "attachment" { fileinto "attachment"; }
if header :mime :anychild :type :is "content-disposition" "inline" { fileinto "inline"; }
if header :mime :anychild :type :matches "content-transfer-encoding" "*" { fileinto "cte-type-${0}"; }
