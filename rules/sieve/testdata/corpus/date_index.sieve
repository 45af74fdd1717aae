require ["date", "index", "variables", "fileinto"];
if header :index 2 :matches "x-multi" "*" { fileinto "second=${0}"; }
if header :index 1 :last :matches "x-multi" "*" { fileinto "last=${0}"; }
if header :index 9 :matches "x-multi" "*" { fileinto "ninth"; }
