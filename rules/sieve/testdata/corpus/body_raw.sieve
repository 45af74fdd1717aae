require ["body", "fileinto"];
if body :raw :contains "=E2=82=AC" { fileinto "qp-raw"; }
if body :raw :contains "VGlwIDE6" { fileinto "b64-raw"; }
if body :raw :contains "Sch=F6ne" { fileinto "latin1-raw"; }
