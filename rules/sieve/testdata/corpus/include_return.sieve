require ["include", "fileinto"];
include "returns";
fileinto "AfterInclude";
