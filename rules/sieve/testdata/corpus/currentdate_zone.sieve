require ["date", "relational", "fileinto"];
if currentdate :zone "+0100" :value "gt" "date" "2000-01-01" { fileinto "after2000"; }
