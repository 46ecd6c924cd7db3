require ["vacation", "vacation-seconds", "variables", "fileinto"];
if header :contains "subject" "cyrus" {
    vacation :mime :days 3 :addresses ["tjs@cyrusoft.com", "tjs@ai.mit.edu"] text:
Content-Type: text/plain; charset=utf-8

I'm away.
.
;
} elsif header :matches "subject" "*" {
    vacation :seconds 1800 :subject "Automatic response to: ${1}" :from "me@example.com" :handle "ho" "I'm on vacation and not reading my mail.";
}
