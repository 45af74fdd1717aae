require ["variables", "fileinto"];
fileinto "${a-b}${}${1a}x";
