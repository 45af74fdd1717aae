# :index counts across the whole header list (RFC 5260 §6): name by name
# in list order, then the fields of that name; :mime :anychild counts
# name by name, then part by part.
require ["fileinto", "index", "variables", "mime"];
if header :index 2 :is ["From","To"] "bob@example.org" { fileinto "from-to-2"; }
if header :index 2 :matches ["To","From"] "*@*" { fileinto "to-from-2-${2}"; }
if header :index 3 :matches ["Cc","From"] "*@*" { fileinto "cc-from-3-${2}"; }
if header :index 1 :last :matches ["From","Cc"] "*@*" { fileinto "from-cc-last-${2}"; }
if address :index 2 :localpart :matches ["From","To"] "*" { fileinto "addr-2-${1}"; }
if address :index 2 :last :localpart :matches ["Cc","To"] "*" { fileinto "addr-2last-${1}"; }
if header :index 9 :matches ["From","To","Cc"] "*" { fileinto "none"; }
if header :mime :anychild :index 2 :matches ["Content-Type","Content-Description"] "*/*;*" { fileinto "mime-2-${1}-${2}"; }
if header :mime :anychild :param "charset" :index 2 :matches "Content-Type" "*" { fileinto "charset-2-${1}"; }
