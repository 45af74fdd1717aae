# RFC 5228 §8.1: only a leading ".." loses a dot in a multi-line string;
# lines end in CRLF there and in quoted strings, even in a script saved
# with LF line ends.
require ["variables", "fileinto"];
set "text" text: # comment
Line 1
.Line 2
..Line 3
Line 4
.
;
if string :is "${text}" "Line 1
.Line 2
.Line 3
Line 4
" { fileinto "equal"; }
set :length "n" "${text}"; fileinto "text-${n}";
set :length "q" "a
b"; fileinto "quoted-${q}";
