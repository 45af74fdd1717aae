require ["include", "fileinto"];
include :global "spam";
include "lists";
include :optional "not-there";
