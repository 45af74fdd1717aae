require ["variables", "fileinto", "mailbox"];
set "a" "0123456789";
set "b" "${a}${a}${a}${a}${a}${a}${a}${a}${a}${a}${a}${a}${a}${a}${a}${a}${a}${a}${a}${a}";
set :length "n" "${b}";
fileinto :create "length-${n}";
