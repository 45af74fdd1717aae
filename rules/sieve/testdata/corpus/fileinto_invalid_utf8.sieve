# A mailbox name built from variables that is not UTF-8 is a runtime
# error (the message is kept), as in Pigeonhole.
require ["fileinto", "variables", "encoded-character"];
set "m" "${hex:ff}rop";
fileinto "${m}";
