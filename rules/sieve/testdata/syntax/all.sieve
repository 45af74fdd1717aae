# Every lexical form of RFC 5228 §2 and §8.1.
require ["fileinto", "imap4flags"];   /* bracket
comment */
if allof (header :contains ["Subject", "X-Foo"] "a\"b\\c\q",
          not exists "x",
          size :over 10K, size :under 2m, size :over 3G, size :over 007) {
  fileinto text: # comment after text:
line one
..dot-stuffed
.
;
} elsif anyof(true, false) { keep; } else { discard; stop; }
addflag [ "a" , "b" ];
