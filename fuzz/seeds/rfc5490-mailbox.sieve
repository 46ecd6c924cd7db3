require ["mailbox", "fileinto", "special-use", "copy"];
if mailboxexists ["Spam", "Junk"] { fileinto "Spam"; }
fileinto :create "INBOX.new";
if specialuse_exists "\\Junk" { fileinto :specialuse "\\Junk" "Spam"; }
if specialuse_exists "Junk" ["\\Junk", "\\Trash"] { fileinto :copy "Junk"; }
