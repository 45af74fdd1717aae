header :is "a" "b";
