require ["include"];
include "flags";
include "flags";
