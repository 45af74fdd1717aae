if anyof (exists "x-nothing", header :is "subject" "x", size :under 100) { discard; }
