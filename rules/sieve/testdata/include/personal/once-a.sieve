require ["include", "fileinto"];
fileinto "once-a";
include "once-b";
