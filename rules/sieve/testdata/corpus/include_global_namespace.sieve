require ["include", "variables", "fileinto"];
include "setglobal";
fileinto "${global.box}";
