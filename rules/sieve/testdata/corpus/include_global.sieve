require ["include"];
include :global "spam";
