fileint "x";
