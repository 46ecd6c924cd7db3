require ["include", "variables"];
global ["test", "test_mailbox"];
set "test" "$$";
include :personal "spam_tests";
include :global :once :optional "always_allow";
include "missing";
return;
