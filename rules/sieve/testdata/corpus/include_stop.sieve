require ["include", "fileinto"];
include "stopper";
fileinto "NotReached";
