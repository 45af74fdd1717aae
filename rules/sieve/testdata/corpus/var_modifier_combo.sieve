require ["variables", "fileinto"];
set :upperfirst :lower "a" "hELLO";
set :length :upper "b" "abc";
fileinto "${a}-${b}";
