require ["duplicate", "variables", "fileinto", "mailbox", "imap4flags"];
if duplicate { discard; }
if header :matches "message-id" "*" { if duplicate :uniqueid "${0}" :handle "h" :seconds 3600 { fileinto "dup"; } }
if duplicate :header "subject" :last :seconds 86400 { addflag "\\Seen"; }
