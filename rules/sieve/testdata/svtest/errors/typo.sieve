require ["fileinot"];
