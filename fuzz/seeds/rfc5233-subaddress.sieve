require ["envelope", "subaddress", "fileinto"];
if envelope :user "to" "postmaster" { fileinto "inbox.postmaster"; stop; }
if envelope :detail :is "to" "mta-filters" { fileinto "inbox.ietf-mta-filters"; stop; }
if address :localpart :matches "from" "*-request" { discard; }
if envelope :all :comparator "i;octet" :matches "from" "" { keep; }
