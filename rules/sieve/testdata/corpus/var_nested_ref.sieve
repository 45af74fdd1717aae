require ["variables", "fileinto"];
set "a" "b";
set "b" "c";
fileinto "${${a}}";
