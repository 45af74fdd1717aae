if address :is "reply-to" "bob@team.example" { discard; }
