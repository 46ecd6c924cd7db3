require ["variables", "fileinto", "mailbox"];
set "honorific"  "Mr";
set "first_name" "Wile";
set "last_name"  "Coyote";
set "vacation" text:
Dear ${HONORIFIC} ${last_name},
I'm out, please leave a message after the meep.
.
;
set :lower :upperfirst "b" "${first_name}";
set :quotewildcard :length "c" "*?\\";
if header :matches "List-ID" "*<*@*" {
    fileinto :create "INBOX.lists.${2}"; stop;
}
if header :matches "Subject" "[*] *" {
    fileinto "INBOX.lists.${1}"; stop;
}
if string :is "${unknown}" "" { keep; }
