require ["include", "variables", "fileinto"];
global "box";
include "setglobal";
fileinto "${box}-${local}";
