if header :comparator "I;OCTET" :is "subject" "Lunch on Friday?" { discard; }
