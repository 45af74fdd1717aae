require ["envelope", "fileinto", "subaddress"];
if envelope :detail "to" "lists" { fileinto "Lists"; }
elsif envelope :domain :is "from" "lottery.example" { discard; }
