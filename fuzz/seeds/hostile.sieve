require ["variables", "regex"];
if header :regex "subject" "((a+)+)+b" { keep; }
set "a" "${a}${a}${a}${a}";
if not not not not not not not not true { if true { if true { if true { stop; } } } }
if anyof(anyof(anyof(allof(true,false),not true),false),true) { discard; }
if header :is "x" "\u{1F600}" {}
