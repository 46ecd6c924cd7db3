require ["imap4flags", "fileinto", "relational", "comparator-i;ascii-numeric", "variables"];
if size :over 500K {
    setflag "\\Deleted";
}
if header :contains "from" "boss@frobnitzm.example.edu" {
    setflag "flagvar" "\\Flagged";
    fileinto :flags "${flagvar}" "INBOX.From Boss";
}
addflag "flagvar" ["\\Seen", "$Work"];
removeflag "flagvar" "$Work";
if hasflag :count "ge" :comparator "i;ascii-numeric" "flagvar" "2" { keep :flags ["\\Answered"]; }
if hasflag :contains "MyVar" "Junk" { discard; }
