require ["include", "fileinto"];
fileinto "once-b";
include :once "once-a";
