require ["duplicate", "fileinto"];
if duplicate :header "subject" :seconds 60 { fileinto "Dup"; }
