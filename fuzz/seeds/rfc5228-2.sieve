require "encoded-character";
if size :over 100k { # this is a comment
    discard;
}
/* this is a bracketed
   comment */
if header :contains "Subject" "${hex:24 24}" { keep; }
if header :is ["To", "Cc"] text:
multi-line
..dot-stuffed
.
{ stop; }
if allof (exists ["From","Date"], not size :under 1M, true, not false) { redirect "a@example.com"; }
