require ["body", "regex", "variables", "fileinto"];
if body :regex "order #([0-9]+)" { fileinto "order-${1}"; }
