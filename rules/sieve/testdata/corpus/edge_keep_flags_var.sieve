require ["imap4flags", "variables"];
set "f" "$One $Two";
keep :flags "${f}";
