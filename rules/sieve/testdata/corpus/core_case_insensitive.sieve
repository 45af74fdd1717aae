IF Header :IS "subject" "lunch on friday?" { DISCARD; } ElsIf TRUE { Keep; }
