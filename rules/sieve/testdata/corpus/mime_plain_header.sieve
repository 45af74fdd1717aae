require ["mime", "fileinto", "variables"];
if header :mime "subject" "lunch on friday?" { fileinto "subject"; }
