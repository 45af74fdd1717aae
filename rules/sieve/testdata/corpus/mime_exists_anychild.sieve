require ["mime", "fileinto", "variables"];
if exists :mime :anychild "content-disposition" { fileinto "has-disposition"; }
