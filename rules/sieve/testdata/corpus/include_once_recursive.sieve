# RFC 6609 §3.2: include :once of a script whose inclusion would be
# recursive is no error; the script counts as included already.
require ["include", "fileinto"];
include "once-a";
