if exists ["From", "To", "Date"] { discard; }
