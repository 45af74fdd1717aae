if header :is "subject" text: # comment allowed here
..x
.
{ discard; } else { keep; }
