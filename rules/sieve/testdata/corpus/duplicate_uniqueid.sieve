require ["duplicate", "variables", "fileinto"];
if header :matches "subject" "*" { if duplicate :uniqueid "${0}" :handle "subj" :last { fileinto "Dup"; } }
