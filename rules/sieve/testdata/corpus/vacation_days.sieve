require ["vacation"];
vacation :days 3 :subject "Away" :from "me@example.org" :addresses ["bob@example.org", "bob+lists@example.org"] "I am away until Monday.";
