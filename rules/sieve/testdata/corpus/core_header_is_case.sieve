if header :is "SUBJECT" "lunch ON friday?" { discard; }
