require ["include"];
include "helper";
