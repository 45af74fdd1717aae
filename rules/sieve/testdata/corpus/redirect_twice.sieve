require ["copy"];
redirect :copy "one@example.net";
redirect :copy "One@example.net";
redirect "two@example.net";
