if header :contains ["subject", "from"] ["patch", "lottery", "INVOICE"] { discard; }
