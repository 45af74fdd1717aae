if header :is "a" text: junk
x
.
{ keep; }
