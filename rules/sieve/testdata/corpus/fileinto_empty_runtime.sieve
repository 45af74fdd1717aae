require ["fileinto", "variables"];
fileinto "${nothing}";
