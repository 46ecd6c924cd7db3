require ["reject", "ereject"];
if header :contains "from" "coyote@desert.example.org" {
    reject text:
I am not taking mail from you, and I don't
want your birdseed, either!
.
;
}
if size :over 10M { ereject "too big"; }
