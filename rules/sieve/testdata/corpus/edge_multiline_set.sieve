require ["variables", "fileinto"];
set "t" text:
line1
line2
.
;
if string :matches "${t}" "line1*line2*" { fileinto "ml"; }
