if header :contains "subject" "München und Übersicht" { discard; }
