//! RFC 5228 core: examples from the RFC, implicit keep, errors.
mod common;
use common::*;

#[test]
fn empty_script_implicit_keep() {
    assert_eq!(on_msg(""), v(&["keep"]));
    let o = run_full("", MSG, &env(), &mut TestHost::default()).expect("run");
    assert!(o.implicit_keep);
}

#[test]
fn rfc5228_section_9_example() {
    // RFC 5228 §9 (adapted: the message is the RFC's coyote message)
    let script = r#"
#
# Example Sieve Filter
# Declare any optional features or extension used by the script
#
require ["fileinto"];

#
# Handle messages from known mailing lists
# Move messages from IETF filter discussion list to filter mailbox
#
if header :is "Sender" "owner-ietf-mta-filters@imc.org"
        {
        fileinto "filter";  # move to "filter" mailbox
        }
#
# Keep all messages to or from people in my company
#
elsif address :DOMAIN :is ["From", "To"] "example.com"
        {
        keep;               # keep in "In" mailbox
        }

#
# Try and catch unsolicited email.  If a message is not to me,
# or it contains a subject known to be spam, file it away.
#
elsif anyof (NOT address :all :contains
               ["To", "Cc", "Bcc"] "me@example.com",
             header :matches "subject"
               ["*make*money*fast*", "*university*dipl*mas*"])
        {
        fileinto "spam";   # move to "spam" mailbox
        }
else
        {
        # Move all other (non-company) mail to "personal"
        # mailbox.
        fileinto "personal";
        }
"#;
    assert_eq!(on_msg(script), v(&["fileinto \"spam\""]));
    let listmsg = "Sender: owner-ietf-mta-filters@imc.org\r\nTo: me@example.com\r\n\r\nx\r\n";
    assert_eq!(lines(script, listmsg), v(&["fileinto \"filter\""]));
    let company = "From: boss@example.com\r\nTo: me@example.com\r\n\r\nx\r\n";
    assert_eq!(lines(script, company), v(&["keep"]));
    let personal = "From: friend@other.org\r\nTo: me@example.com.au\r\nSubject: hi\r\n\r\nx\r\n";
    assert_eq!(lines(script, personal), v(&["fileinto \"personal\""]));
}

#[test]
fn rfc5228_discard_and_stop() {
    // §4.5 / §3.3
    assert_eq!(on_msg("if header :contains [\"from\"] [\"coyote\"] { discard; }"), v(&["discard"]));
    assert_eq!(on_msg("stop; discard;"), v(&["keep"]));
    assert_eq!(on_msg("discard; keep;"), v(&["discard", "keep"]));
}

#[test]
fn rfc5228_size_and_header_examples() {
    // §5.9: size :over 1M
    assert_eq!(on_msg("if size :over 1M { discard; }"), v(&["keep"]));
    assert_eq!(on_msg("if size :under 1K { discard; }"), v(&["discard"]));
    // §5.7 header :contains with X-Caffeine
    assert_eq!(on_msg("if header :contains [\"X-Caffeine\"] [\"\"] { discard; }"), v(&["discard"]));
    assert_eq!(on_msg("if header :contains [\"X-Caffeine\"] [\"C8H10\"] { discard; }"), v(&["discard"]));
    assert_eq!(on_msg("if header :is \"X-Caffeine\" \"c8h10n4o2\" { discard; }"), v(&["discard"]));
    assert_eq!(on_msg("if header :comparator \"i;octet\" :is \"X-Caffeine\" \"c8h10n4o2\" { discard; }"), v(&["keep"]));
}

#[test]
fn rfc5228_exists_and_not() {
    // §5.5
    assert_eq!(on_msg("if exists [\"From\",\"Date\"] { discard; }"), v(&["discard"]));
    assert_eq!(on_msg("if not exists [\"From\",\"X-None\"] { discard; }"), v(&["discard"]));
    assert_eq!(on_msg("if allof (true, false) { discard; }"), v(&["keep"]));
    assert_eq!(on_msg("if anyof (false, true) { discard; }"), v(&["discard"]));
}

#[test]
fn address_parts() {
    assert_eq!(on_msg("if address :localpart :is \"from\" \"coyote\" { discard; }"), v(&["discard"]));
    assert_eq!(on_msg("if address :domain :is \"cc\" \"ACME.example.com\" { discard; }"), v(&["discard"]));
    assert_eq!(on_msg("if address :all :is \"cc\" \"boss@acme.example.com\" { discard; }"), v(&["discard"]));
    assert_eq!(on_msg("if address :is \"cc\" \"Boss\" { discard; }"), v(&["keep"]));
}

#[test]
fn matches_wildcards_and_escapes() {
    assert_eq!(on_msg("if header :matches \"subject\" \"I have a * for ?ou\" { discard; }"), v(&["discard"]));
    assert_eq!(on_msg("if header :matches \"subject\" \"I have\" { discard; }"), v(&["keep"]));
    let m = "Subject: a*b\r\n\r\n";
    assert_eq!(lines("if header :matches \"subject\" \"a\\\\*b\" { discard; }", m), v(&["discard"]));
    let m = "Subject: axb\r\n\r\n";
    assert_eq!(lines("if header :matches \"subject\" \"a\\\\*b\" { discard; }", m), v(&["keep"]));
}

#[test]
fn redirect_and_dedup() {
    assert_eq!(on_msg("redirect \"a@example.com\";"), v(&["redirect \"a@example.com\""]));
    assert_eq!(on_msg("redirect \"a@example.com\"; redirect \"a@example.com\";"), v(&["redirect \"a@example.com\""]));
    assert_eq!(on_msg("keep; keep;"), v(&["keep"]));
}

#[test]
fn envelope_test() {
    let s = "require \"envelope\"; if envelope :all :is \"from\" \"coyote@desert.example.org\" { discard; }";
    assert_eq!(on_msg(s), v(&["discard"]));
    let s = "require \"envelope\"; if envelope :domain :is \"to\" \"acme.example.com\" { discard; }";
    assert_eq!(on_msg(s), v(&["discard"]));
    let s = "require \"envelope\"; if envelope :is \"to\" \"x@y\" { discard; }";
    assert_eq!(on_msg(s), v(&["keep"]));
    // null return path
    let s = "require \"envelope\"; if envelope :is \"from\" \"\" { discard; }";
    let o = run_full(s, MSG, &Envelope::new("", "a@b"), &mut TestHost::default()).expect("run");
    assert_eq!(o.lines(), v(&["discard"]));
    assert!(compile_err("require \"envelope\"; if envelope :is \"form\" \"x\" {}").contains("did you mean `from`"));
    assert!(compile_err("if envelope :is \"from\" \"x\" {}").contains("require \"envelope\""));
}

#[test]
fn fileinto_requires_extension() {
    let e = compile_err("fileinto \"x\";");
    assert!(e.contains("requires the extension \"fileinto\""), "{e}");
    assert_eq!(on_msg("require \"fileinto\"; fileinto \"a\"; fileinto \"a\";"), v(&["fileinto \"a\""]));
}

#[test]
fn structure_errors() {
    assert!(compile_err("if true;").contains("needs a block"));
    assert!(compile_err("elsif true {}").contains("without a preceding `if`"));
    assert!(compile_err("if true {} else {} else {}").contains("without a preceding `if`"));
    assert!(compile_err("if {}").contains("exactly one test"));
    assert!(compile_err("keep { }").contains("does not take a block"));
    assert!(compile_err("keep;\nrequire \"fileinto\";").contains("must come before"));
    assert!(compile_err("require \"nosuch\";").contains("unsupported extension"));
    assert!(compile_err("if size 100 {}").contains(":over"));
    assert!(compile_err("if size :over \"x\" {}").contains("must be a number"));
    assert!(compile_err("if header \"a\" {}").contains("needs 2 arguments"));
    assert!(compile_err("if header :is 1 \"a\" {}").contains("must be a string"));
    assert!(compile_err("if header :is :contains \"a\" \"b\" {}").contains("cannot be used together"));
    assert!(compile_err("if header :comparator \"i;foo\" \"a\" \"b\" {}").contains("unknown comparator"));
    assert!(compile_err("if not (true, false) {}").contains("exactly one test"));
    assert!(compile_err("if allof true {}").contains("list of tests"));
    assert!(compile_err("redirect \"not an address\";").contains("not a valid e-mail address"));
    assert!(compile_err("discard \"x\";").contains("too many arguments"));
    assert!(compile_err("if true { keep }").contains("expected `;`"));
    assert!(compile_err("if header :is \"a\" \"b\" { keep; } blah;").contains("unknown command `blah`"));
    assert!(compile_err("if true { kep; }").contains("did you mean `keep`"));
}

#[test]
fn did_you_mean_messages() {
    let e = compile_err("require \"fileinto\";\n\nif true {\n  if hedaer :is \"a\" \"b\" { keep; }\n}");
    assert_eq!(e, "line 4, column 6: unknown test `hedaer`, did you mean `header`?");
    let e = compile_err("if adress :is \"from\" \"x\" {}");
    assert!(e.contains("did you mean `address`?"), "{e}");
    let e = compile_err("discrad;");
    assert!(e.contains("did you mean `discard`?"), "{e}");
    let e = compile_err("if header :matchs \"a\" \"b\" {}");
    assert!(e.contains("did you mean `:matches`?"), "{e}");
    let e = compile_err("require \"varibles\";");
    assert!(e.contains("did you mean `variables`?"), "{e}");
    let e = compile_err("if keep {}");
    assert!(e.contains("is a command, not a test"), "{e}");
}

#[test]
fn ascii_numeric_comparator() {
    let s = "require [\"comparator-i;ascii-numeric\", \"relational\"];\nif header :value \"gt\" :comparator \"i;ascii-numeric\" \"x-n\" \"9\" { discard; }";
    assert_eq!(lines(s, "X-N: 10\r\n\r\n"), v(&["discard"]));
    assert_eq!(lines(s, "X-N: 8\r\n\r\n"), v(&["keep"]));
    let e = compile_err("if header :comparator \"i;ascii-numeric\" :is \"a\" \"1\" {}");
    assert!(e.contains("comparator-i;ascii-numeric"), "{e}");
    let s = "require \"comparator-i;ascii-numeric\"; if header :comparator \"i;ascii-numeric\" :is \"x-n\" \"007\" { discard; }";
    assert_eq!(lines(s, "X-N: 7\r\n\r\n"), v(&["discard"]));
}

#[test]
fn encoded_character_ext() {
    let s = "require [\"encoded-character\", \"fileinto\"]; fileinto \"INBOX.${hex:53 61 6d}${unicode:e9}\";";
    assert_eq!(on_msg(s), v(&["fileinto \"INBOX.Samé\""]));
    // without require: literal
    let s = "require \"fileinto\"; fileinto \"a${hex:40}\";";
    assert_eq!(on_msg(s), v(&["fileinto \"a${hex:40}\""]));
}

#[test]
fn multiline_strings() {
    let s = "require \"reject\";\nreject text:\nI don't want\n..dot\n.\n;";
    assert_eq!(on_msg(s), v(&["reject \"I don't want\\r\\n.dot\\r\\n\""]));
}

#[test]
fn rfc2047_decoded_headers() {
    let m = "Subject: =?ISO-8859-1?Q?Caf=E9?=\r\n\r\nx";
    assert_eq!(lines("if header :is \"subject\" \"Café\" { discard; }", m), v(&["discard"]));
}
