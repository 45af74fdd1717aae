require "date";
if date :zone "CET" "date" "year" "2024" { keep; }
