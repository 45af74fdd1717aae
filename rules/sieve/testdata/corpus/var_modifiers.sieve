require ["variables", "fileinto"];
set :upper "a" "hello";
set :lower "b" "WORLD";
set :upperfirst "c" "example";
set :lowerfirst "d" "EXAMPLE";
set :length "e" "12345";
fileinto "${a}.${b}.${c}.${d}.${e}";
