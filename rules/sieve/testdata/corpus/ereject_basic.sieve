require ["ereject"];
ereject "not here";
