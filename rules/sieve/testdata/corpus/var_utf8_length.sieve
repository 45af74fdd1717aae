require ["variables", "fileinto"];
set :length "n" "Grüße";
set :upper "u" "grüße";
fileinto "${n}-${u}";
