if not anyof (exists "date", exists "message-id") { discard; }
