require ["variables", "fileinto"];
set :length "n" "";
fileinto "len${n}";
