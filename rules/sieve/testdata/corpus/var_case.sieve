require ["variables", "fileinto"];
set "BoX" "Archive";
fileinto "${box}-${BOX}";
