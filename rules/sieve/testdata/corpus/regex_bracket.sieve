require ["regex", "fileinto"];
if header :regex "subject" "[[:digit:]]{4}-[[:digit:]]{4}" { fileinto "numbered"; }
