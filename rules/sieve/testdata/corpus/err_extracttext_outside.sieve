require ["foreverypart", "extracttext", "variables"];
extracttext "t";
