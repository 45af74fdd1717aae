if allof (exists "from", exists "subject", header :contains "subject" "i") { discard; }
