if header :is :comparator "i;octet" "subject" "lunch on friday?" { discard; } if header :is :comparator "i;octet" "Subject" "Lunch on Friday?" { keep; }
