if exists ["SUBJECT", "subject", "Subject"] { discard; }
