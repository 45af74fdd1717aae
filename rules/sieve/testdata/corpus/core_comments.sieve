# hash comment
/* bracket
   comment */ if /* inline */ true { # trailing
  discard; /* after */
}
