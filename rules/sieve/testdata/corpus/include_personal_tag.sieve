require ["include"];
include :personal "helper";
