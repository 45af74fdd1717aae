require ["body", "fileinto"];
if body :content "text/calendar" :contains "VCALENDAR" { fileinto "cal"; }
if body :content "application/pdf" :contains "%PDF" { fileinto "pdf"; }
if body :content "image" :contains "PNG" { fileinto "png"; }
