if allof (anyof (false, not false), not allof (true, false), anyof (exists "subject")) { discard; }
