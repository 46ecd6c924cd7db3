require ["editheader", "variables", "index"];
addheader "X-Source" "mail.example.com";
addheader :last "X-Last" "end";
if header :matches "Subject" "*" { addheader "X-Subject" "${1}"; }
deleteheader "X-Spam-Score";
deleteheader :index 1 :last "Received";
deleteheader :is "X-Virus-Status" ["Clean", "Unknown"];
deleteheader :contains "Subject" "list";
