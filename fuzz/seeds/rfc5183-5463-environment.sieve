require ["environment", "ihave", "variables", "regex", "copy", "fileinto"];
if environment :matches "domain" "*.example.com" { redirect :copy "tracker@example.com"; }
if ihave "nonexistent" { nonexistent "x"; } else { keep; }
if header :regex "subject" "^\\[(list|other)\\] (.*)$" { fileinto :copy "${1}"; }
if environment "name" "postfach" { error "stop here"; }
