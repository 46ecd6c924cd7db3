//! Extension tests: RFC examples plus positive and negative cases.
mod common;
use common::*;

// ---- reject / ereject (RFC 5429) ----
#[test]
fn reject_examples() {
    let s = "require [\"reject\"];\nif size :over 100K {\n reject text:\nYour message is too big.  If you want to send me a big attachment,\nput it on a public web site and send me a URL.\n.\n;\n}";
    assert_eq!(lines(s, &format!("Subject: big\r\n\r\n{}", "x".repeat(110_000))).len(), 1);
    assert_eq!(on_msg(s), v(&["keep"]));
    let s = "require \"ereject\"; ereject \"no thanks\";";
    assert_eq!(on_msg(s), v(&["ereject \"no thanks\""]));
}

#[test]
fn reject_conflicts() {
    let e = runtime_err("require [\"reject\", \"fileinto\"]; fileinto \"x\"; reject \"no\";", MSG);
    assert!(e.contains("cannot be combined"), "{e}");
    let e = runtime_err("require [\"reject\", \"fileinto\"]; reject \"no\"; fileinto \"x\";", MSG);
    assert!(e.contains("cannot be combined"), "{e}");
    let e = runtime_err("require \"reject\"; keep; reject \"no\";", MSG);
    assert!(e.contains("keep"), "{e}");
    let e = runtime_err("require [\"reject\", \"ereject\"]; reject \"a\"; ereject \"b\";", MSG);
    assert!(e.contains("only one"), "{e}");
    let e = runtime_err("require [\"reject\", \"vacation\"]; reject \"a\"; vacation \"away\";", MSG);
    assert!(e.contains("vacation"), "{e}");
    // reject + discard is fine; reject cancels implicit keep
    assert_eq!(on_msg("require \"reject\"; reject \"x\"; discard;"), v(&["reject \"x\"", "discard"]));
    assert!(compile_err("reject \"x\";").contains("require \"reject\""));
}

// ---- imap4flags (RFC 5232) ----
#[test]
fn imap4flags_examples() {
    let s = r#"require ["imap4flags", "fileinto"];
if size :over 500 { addflag "\\Deleted"; }
if header :contains "from" "coyote" {
   addflag "\\Flagged \\Answered";
   fileinto "From boss";
   removeflag "\\Deleted";
}"#;
    // RFC 5232 §6: fileinto cancels the implicit keep; the flags at the time
    // of fileinto are stored with it
    assert_eq!(on_msg(s), v(&["fileinto \"From boss\" :flags \"\\\\Deleted \\\\Flagged \\\\Answered\""]));
    let s2 = s.replace("removeflag", "keep; removeflag");
    assert_eq!(
        on_msg(&s2),
        v(&[
            "fileinto \"From boss\" :flags \"\\\\Deleted \\\\Flagged \\\\Answered\"",
            "keep :flags \"\\\\Deleted \\\\Flagged \\\\Answered\""
        ])
    );
    let s = "require \"imap4flags\"; setflag \"\\\\Seen\"; keep :flags [\"$Junk\", \"\\\\Seen $Junk\"];";
    assert_eq!(on_msg(s), v(&["keep :flags \"$Junk \\\\Seen\""]));
    // implicit keep carries the internal flags
    let s = "require \"imap4flags\"; setflag \"\\\\Seen\"; addflag \"\\\\Flagged\";";
    assert_eq!(on_msg(s), v(&["keep :flags \"\\\\Seen \\\\Flagged\""]));
    // hasflag
    let s = "require \"imap4flags\"; addflag [\"A\", \"b\"]; if hasflag :is \"a\" { discard; }";
    assert_eq!(on_msg(s), v(&["discard"]));
    let s = "require [\"imap4flags\", \"variables\"]; set \"myflags\" \"x\"; addflag \"myflags\" \"y\"; if hasflag :is \"myflags\" [\"x\", \"y\"] { discard; }";
    assert_eq!(on_msg(s), v(&["discard"]));
    let s = "require [\"imap4flags\", \"relational\", \"comparator-i;ascii-numeric\"]; addflag \"a b c\"; if hasflag :count \"ge\" :comparator \"i;ascii-numeric\" \"3\" { discard; }";
    assert_eq!(on_msg(s), v(&["discard"]));
    assert!(compile_err("addflag \"x\";").contains("imap4flags"));
    assert!(compile_err("require \"imap4flags\"; addflag \"v\" \"x\";").contains("variables"));
    assert!(compile_err("require \"fileinto\"; fileinto :flags \"x\" \"a\";").contains("imap4flags"));
}

// ---- copy (RFC 3894) ----
#[test]
fn copy_ext() {
    let s = "require [\"copy\", \"fileinto\"]; fileinto :copy \"Archive\";";
    assert_eq!(on_msg(s), v(&["fileinto \"Archive\" :copy", "keep"]));
    let s = "require \"copy\"; redirect :copy \"b@example.org\";";
    assert_eq!(on_msg(s), v(&["redirect \"b@example.org\" :copy", "keep"]));
    assert!(compile_err("redirect :copy \"b@example.org\";").contains("require \"copy\""));
}

// ---- body (RFC 5173) ----
#[test]
fn body_ext() {
    let s = "require \"body\"; if body :contains \"birdseed\" { discard; }";
    assert_eq!(on_msg(s), v(&["discard"]));
    let s = "require \"body\"; if body :raw :contains \"MAKE MONEY FAST\" { discard; }";
    assert_eq!(on_msg(s), v(&["keep"]));
    let mime = "Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nplain part\r\n--B\r\nContent-Type: text/html\r\n\r\n<b>html</b> part\r\n--B\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nc2VjcmV0\r\n--B--\r\n";
    assert_eq!(
        lines("require \"body\"; if body :content \"text/html\" :contains \"<b>\" { discard; }", mime),
        v(&["discard"])
    );
    assert_eq!(
        lines("require \"body\"; if body :content \"text/plain\" :contains \"<b>\" { discard; }", mime),
        v(&["keep"])
    );
    assert_eq!(lines("require \"body\"; if body :text :contains \"html\" { discard; }", mime), v(&["discard"]));
    assert_eq!(lines("require \"body\"; if body :text :contains \"<b>\" { discard; }", mime), v(&["keep"]));
    assert_eq!(
        lines("require \"body\"; if body :content \"application\" :contains \"secret\" { discard; }", mime),
        v(&["discard"])
    );
    assert_eq!(lines("require \"body\"; if body :raw :contains \"c2VjcmV0\" { discard; }", mime), v(&["discard"]));
    assert!(compile_err("if body :contains \"x\" {}").contains("body"));
    assert!(compile_err("require \"body\"; if body :raw :text \"x\" {}").contains("cannot be used together"));
}

// ---- variables (RFC 5229) ----
#[test]
fn variables_examples() {
    // §3.2 example
    let s = r#"require ["variables", "fileinto"];
if header :matches "List-ID" "*<*@*" {
    fileinto "INBOX.lists.${2}"; stop;
}
# Imagine the header
# Subject: [acme-users] [fwd] version 1.0 is out
if header :matches "Subject" "[*] *" {
    # ${1} will hold "acme-users",
    # ${2} will hold "[fwd] version 1.0 is out"
    fileinto "INBOX.lists.${1}"; stop;
}"#;
    let m = "List-ID: Acme users <acme-users@example.com>\r\n\r\n";
    assert_eq!(lines(s, m), v(&["fileinto \"INBOX.lists.acme-users\""]));
    let m = "Subject: [acme-users] [fwd] version 1.0 is out\r\n\r\n";
    assert_eq!(lines(s, m), v(&["fileinto \"INBOX.lists.acme-users\""]));
    // §4 set + string test
    let s = r#"require ["variables", "fileinto"];
set "honorific"  "Mr";
set "first_name" "Wile";
set "last_name"  "Coyote";
set "vacation" text:
Dear ${HONORIFIC} ${last_name},
I'm out, please leave a message after the meep.
.
;
if string :matches "${vacation}" "Dear Mr Coyote,*" { fileinto "ok"; }"#;
    assert_eq!(on_msg(s), v(&["fileinto \"ok\""]));
    let s = "require [\"variables\", \"fileinto\"]; set :upperfirst :lower \"a\" \"hELLO\"; fileinto \"${a}-${unknown}-${1}\";";
    assert_eq!(on_msg(s), v(&["fileinto \"Hello--\""]));
    let s = "require [\"variables\", \"fileinto\"]; set :length \"n\" \"hello\"; set :quotewildcard \"q\" \"a*b\"; fileinto \"${n}${q}\";";
    assert_eq!(on_msg(s), v(&["fileinto \"5a\\\\*b\""]));
    assert!(compile_err("require \"variables\"; set :lower :upper \"a\" \"b\";").contains("cannot be used together"));
    assert!(compile_err("require \"variables\"; set \"1a\" \"b\";").contains("not a valid variable name"));
    assert!(compile_err("set \"a\" \"b\";").contains("variables"));
    // without variables, ${} is literal
    assert_eq!(on_msg("require \"fileinto\"; fileinto \"${x}\";"), v(&["fileinto \"${x}\""]));
}

#[test]
fn string_test_count() {
    let s = "require [\"variables\", \"relational\", \"comparator-i;ascii-numeric\"]; if string :count \"eq\" :comparator \"i;ascii-numeric\" [\"a\", \"\", \"b\"] \"2\" { discard; }";
    assert_eq!(on_msg(s), v(&["discard"]));
}

// ---- relational (RFC 5231) ----
#[test]
fn relational_examples() {
    let m = "Received: from a\r\nReceived: from b\r\nReceived: from c\r\nTo: a@x, b@x\r\nCc: c@x\r\nX-Priority: 5\r\nSubject: M\r\n\r\n";
    let r = "require [\"relational\", \"comparator-i;ascii-numeric\"];";
    assert_eq!(
        lines(
            &format!("{r} if header :count \"ge\" :comparator \"i;ascii-numeric\" \"received\" \"3\" {{ discard; }}"),
            m
        ),
        v(&["discard"])
    );
    assert_eq!(
        lines(
            &format!(
                "{r} if address :count \"ge\" :comparator \"i;ascii-numeric\" [\"to\", \"cc\"] \"3\" {{ discard; }}"
            ),
            m
        ),
        v(&["discard"])
    );
    assert_eq!(
        lines(
            &format!(
                "{r} if address :count \"gt\" :comparator \"i;ascii-numeric\" [\"to\", \"cc\"] \"3\" {{ discard; }}"
            ),
            m
        ),
        v(&["keep"])
    );
    assert_eq!(
        lines(
            &format!("{r} if header :value \"lt\" :comparator \"i;ascii-numeric\" \"x-priority\" \"3\" {{ discard; }}"),
            m
        ),
        v(&["keep"])
    );
    assert_eq!(lines(&format!("{r} if header :value \"gt\" \"subject\" \"L\" {{ discard; }}"), m), v(&["discard"]));
    assert!(compile_err(&format!("{r} if header :value \"bigger\" \"a\" \"b\" {{}}")).contains("relational operator"));
    assert!(compile_err("if header :count \"eq\" \"a\" \"b\" {}").contains("relational"));
}

// ---- subaddress (RFC 5233) ----
#[test]
fn subaddress_examples() {
    let s = r#"require ["envelope", "subaddress", "fileinto"];
if envelope :user "to" "roadrunner" {
   if envelope :detail :is "to" "mta-filters" { fileinto "inbox.ietf-mta-filters"; }
   elsif envelope :detail :is "to" "" { fileinto "inbox.empty"; }
   else { fileinto "inbox.other"; }
}"#;
    let run = |to: &str| run_full(s, MSG, &Envelope::new("a@b", to), &mut TestHost::default()).expect("run").lines();
    assert_eq!(run("roadrunner+mta-filters@acme.example.com"), v(&["fileinto \"inbox.ietf-mta-filters\""]));
    assert_eq!(run("roadrunner+@acme.example.com"), v(&["fileinto \"inbox.empty\""]));
    assert_eq!(run("roadrunner@acme.example.com"), v(&["fileinto \"inbox.other\""]));
    assert_eq!(run("wile@acme.example.com"), v(&["keep"]));
    let mut host = TestHost { separator: Some("-".into()), ..TestHost::default() };
    let o = run_full(s, MSG, &Envelope::new("a@b", "roadrunner-mta-filters@x"), &mut host).expect("run");
    assert_eq!(o.lines(), v(&["fileinto \"inbox.ietf-mta-filters\""]));
    assert!(compile_err("require \"envelope\"; if envelope :user \"to\" \"x\" {}").contains("subaddress"));
}

// ---- regex ----
#[test]
fn regex_ext() {
    let s = "require [\"regex\", \"variables\", \"fileinto\"]; if header :regex \"subject\" \"^I have a ([a-z]+)\" { fileinto \"${1}\"; }";
    assert_eq!(on_msg(s), v(&["fileinto \"present\""]));
    let s = "require \"regex\"; if header :regex \"subject\" \"^you\" { discard; }";
    assert_eq!(on_msg(s), v(&["keep"]));
    assert!(compile_err("require \"regex\"; if header :regex \"subject\" \"(unclosed\" {}")
        .contains("invalid regular expression"));
    assert!(compile_err("if header :regex \"subject\" \"x\" {}").contains("regex"));
    let big = "a".repeat(2000);
    assert!(compile_err(&format!("require \"regex\"; if header :regex \"subject\" \"{big}\" {{}}"))
        .contains("longer than the limit"));
    let complex = "(a{1,100}){1,100}".repeat(3);
    assert!(compile_err(&format!("require \"regex\"; if header :regex \"subject\" \"{complex}\" {{}}"))
        .contains("too complex"));
    // runtime-compiled regex from a variable is guarded too
    let s = format!("require [\"regex\", \"variables\"]; set \"r\" \"{complex}\"; if header :regex \"subject\" \"${{r}}\" {{ discard; }}");
    assert!(runtime_err(&s, MSG).contains("too complex"));
}

// ---- vacation (RFC 5230) + vacation-seconds (RFC 6131) ----
#[test]
fn vacation_examples() {
    let s = r#"require "vacation";
if header :contains "subject" "cyrus" {
    vacation "I'm out -- send mail to cyrus-bugs";
} else {
    vacation "I'm out -- call me at +1 304 555 0123";
}"#;
    let o = run_full(s, MSG, &env(), &mut TestHost::default()).expect("run");
    assert_eq!(o.actions.len(), 2);
    let Action::Vacation(vac) = &o.actions[0] else { panic!("vacation expected") };
    assert_eq!(vac.to, "coyote@desert.example.org");
    assert_eq!(vac.subject, "Auto: I have a present for you");
    assert_eq!(vac.period, 7 * 86400);
    assert_eq!(vac.in_reply_to.as_deref(), Some("<1234@desert.example.org>"));
    assert!(vac.reason.contains("call me"));
    assert!(o.implicit_keep);

    let s = "require \"vacation\"; vacation :days 23 :addresses [\"tjs@example.edu\", \"ts4z@landru.example.edu\"] :subject \"gone\" :from \"me@example.edu\" :handle \"h1\" \"away\";";
    let o = run_full(s, MSG, &env(), &mut TestHost::default()).expect("run");
    let Action::Vacation(vac) = &o.actions[0] else { panic!("vacation expected") };
    assert_eq!((vac.period, vac.subject.as_str(), vac.handle.as_str()), (23 * 86400, "gone", "h1"));
    assert_eq!(vac.from.as_deref(), Some("me@example.edu"));

    let s = "require \"vacation-seconds\"; vacation :seconds 7200 \"brb\";";
    let o = run_full(s, MSG, &env(), &mut TestHost::default()).expect("run");
    let Action::Vacation(vac) = &o.actions[0] else { panic!("vacation expected") };
    assert_eq!(vac.period, 7200);
    assert!(compile_err("require \"vacation\"; vacation :seconds 10 \"x\";").contains("vacation-seconds"));
    assert!(compile_err("require \"vacation-seconds\"; vacation :days 1 :seconds 10 \"x\";")
        .contains("cannot be used together"));
    assert!(runtime_err("require \"vacation\"; vacation \"a\"; vacation \"b\";", MSG).contains("only once"));
}

#[test]
fn vacation_suppression() {
    let s = "require \"vacation\"; vacation \"away\";";
    for (m, why) in [
        ("To: roadrunner@acme.example.com\r\nList-Id: <x.example>\r\n\r\n", "list"),
        ("To: roadrunner@acme.example.com\r\nPrecedence: bulk\r\n\r\n", "Precedence"),
        ("To: roadrunner@acme.example.com\r\nAuto-Submitted: auto-replied\r\n\r\n", "auto-submitted"),
        ("To: someone@else.example\r\n\r\n", "To/Cc"),
    ] {
        let o = run_full(s, m, &env(), &mut TestHost::default()).expect("run");
        assert_eq!(o.lines(), v(&["keep"]), "{m}");
        assert!(o.vacation_suppressed.as_deref().unwrap_or("").contains(why), "{:?}", o.vacation_suppressed);
    }
    let o = run_full(s, MSG, &Envelope::new("", "roadrunner@acme.example.com"), &mut TestHost::default()).expect("run");
    assert!(o.vacation_suppressed.is_some());
    let o =
        run_full(s, MSG, &Envelope::new("MAILER-DAEMON@x", "roadrunner@acme.example.com"), &mut TestHost::default())
            .expect("run");
    assert!(o.vacation_suppressed.is_some());
}

// ---- date / index (RFC 5260) ----
#[test]
fn date_examples() {
    let r = "require [\"date\", \"relational\", \"fileinto\"];";
    assert_eq!(on_msg(&format!("{r} if date :is \"date\" \"year\" \"1997\" {{ discard; }}")), v(&["discard"]));
    assert_eq!(
        on_msg(&format!("{r} if date :originalzone :is \"date\" \"hour\" \"09\" {{ discard; }}")),
        v(&["discard"])
    );
    assert_eq!(
        on_msg(&format!("{r} if date :zone \"+0000\" :is \"date\" \"time\" \"17:06:31\" {{ discard; }}")),
        v(&["discard"])
    );
    // local zone of the host is +0100
    assert_eq!(on_msg(&format!("{r} if date :is \"date\" \"hour\" \"18\" {{ discard; }}")), v(&["discard"]));
    assert_eq!(on_msg(&format!("{r} if date :is \"date\" \"weekday\" \"2\" {{ discard; }}")), v(&["discard"]));
    // RFC 5260 §6 example: currentdate range
    let s = format!("{r} if allof(currentdate :value \"ge\" \"date\" \"2024-03-01\", currentdate :value \"le\" \"date\" \"2024-03-31\") {{ fileinto \"march\"; }}");
    assert_eq!(on_msg(&s), v(&["fileinto \"march\""]));
    let s = "require [\"date\", \"variables\", \"fileinto\"]; if currentdate :matches \"std11\" \"*\" { set \"d\" \"${1}\"; } if currentdate :zone \"+0000\" :matches \"iso8601\" \"*\" { fileinto \"${1}\"; }";
    assert_eq!(on_msg(s), v(&["fileinto \"2024-03-15T09:30:00+00:00\""]));
    assert!(compile_err(&format!("{r} if date :is \"date\" \"yaer\" \"1\" {{}}")).contains("did you mean `year`"));
    assert!(
        compile_err(&format!("{r} if date :zone \"CET\" \"date\" \"year\" \"1\" {{}}")).contains("invalid time zone")
    );
    assert!(compile_err("if currentdate \"year\" \"1\" {}").contains("date"));
}

#[test]
fn index_examples() {
    let m = "Received: from a by b; Mon, 1 Jan 2024 10:00:00 +0000\r\nReceived: from c by d; Sun, 31 Dec 2023 10:00:00 +0000\r\nX-A: 1\r\nX-A: 2\r\nX-A: 3\r\n\r\n";
    let r = "require [\"date\", \"index\"];";
    assert_eq!(
        lines(&format!("{r} if date :index 1 :zone \"+0000\" \"received\" \"year\" \"2024\" {{ discard; }}"), m),
        v(&["discard"])
    );
    assert_eq!(
        lines(&format!("{r} if date :index 1 :last :zone \"+0000\" \"received\" \"year\" \"2023\" {{ discard; }}"), m),
        v(&["discard"])
    );
    assert_eq!(lines(&format!("{r} if header :index 2 \"x-a\" \"2\" {{ discard; }}"), m), v(&["discard"]));
    assert_eq!(lines(&format!("{r} if header :index 1 :last \"x-a\" \"3\" {{ discard; }}"), m), v(&["discard"]));
    assert_eq!(lines(&format!("{r} if header :index 4 \"x-a\" \"3\" {{ discard; }}"), m), v(&["keep"]));
    assert!(compile_err(&format!("{r} if header :last \"x-a\" \"3\" {{}}")).contains("needs `:index`"));
    assert!(compile_err("if header :index 1 \"x-a\" \"3\" {}").contains("index"));
}

// ---- mailbox (RFC 5490) + special-use (RFC 8579) ----
#[test]
fn mailbox_ext() {
    let s = "require [\"mailbox\", \"fileinto\"]; if mailboxexists \"Lists\" { fileinto \"Lists\"; } else { fileinto :create \"Lists\"; }";
    let mut h = TestHost::default();
    assert_eq!(lines_with(s, MSG, &mut h), v(&["fileinto \"Lists\" :create"]));
    h.mailboxes.insert("Lists".into());
    assert_eq!(lines_with(s, MSG, &mut h), v(&["fileinto \"Lists\""]));
    assert!(compile_err("require \"fileinto\"; fileinto :create \"x\";").contains("mailbox"));
    let s = "require [\"special-use\", \"fileinto\"]; if specialuse_exists \"\\\\Junk\" { fileinto :specialuse \"\\\\Junk\" \"Spam\"; }";
    let mut h = TestHost { special: vec![("Junk".into(), "\\Junk".into())], ..TestHost::default() };
    assert_eq!(lines_with(s, MSG, &mut h), v(&["fileinto \"Spam\" :specialuse \"\\\\Junk\""]));
    assert_eq!(on_msg(s), v(&["keep"]));
}

// ---- spamtest / virustest (RFC 5235) ----
#[test]
fn spamtest_ext() {
    let m = "X-Spam-Score: 7.5\r\nX-Virus-Score: 0\r\n\r\n";
    let cfg = |h: &str| ScoreHeader::parse(h, Scale::Range { min: 0.0, max: 10.0 }).ok();
    let mut h = TestHost { spam: cfg("x-spam-score"), virus: cfg("x-virus-score"), ..TestHost::default() };
    let r = "require [\"spamtest\", \"relational\", \"comparator-i;ascii-numeric\", \"fileinto\"];";
    let s = format!("{r} if spamtest :value \"ge\" :comparator \"i;ascii-numeric\" \"7\" {{ fileinto \"Junk\"; }}");
    assert_eq!(lines_with(&s, m, &mut h), v(&["fileinto \"Junk\""]));
    // untested → "0"
    let s0 = format!("{r} if spamtest :is \"0\" {{ fileinto \"untested\"; }}");
    assert_eq!(lines(&s0, m), v(&["fileinto \"untested\""]));
    let s = "require [\"spamtestplus\", \"relational\", \"comparator-i;ascii-numeric\"]; if spamtest :percent :value \"eq\" :comparator \"i;ascii-numeric\" \"75\" { discard; }";
    assert_eq!(lines_with(s, m, &mut h), v(&["discard"]));
    let s = "require \"virustest\"; if virustest :is \"1\" { discard; }";
    assert_eq!(lines_with(s, m, &mut h), v(&["discard"]));
    assert!(compile_err("require \"spamtest\"; if spamtest :percent \"1\" {}").contains("spamtestplus"));
}

/// RFC 5235 §3.1: `:count` of the normalized result is "1" when a test was
/// done and "0" when it was not (no header, or no configuration at all).
#[test]
fn spamtest_count_tells_tested_from_untested() {
    let cfg = ScoreHeader::parse("X-Spam-Score", Scale::Range { min: 0.0, max: 10.0 }).ok();
    let r = "require [\"spamtestplus\", \"relational\", \"comparator-i;ascii-numeric\", \"fileinto\"];";
    let s = format!(
        "{r} if spamtest :percent :count \"eq\" :comparator \"i;ascii-numeric\" \"0\" {{ fileinto \"untested\"; }}
         elsif spamtest :count \"eq\" :comparator \"i;ascii-numeric\" \"1\" {{ fileinto \"tested\"; }}"
    );
    let mut h = TestHost { spam: cfg.clone(), ..TestHost::default() };
    assert_eq!(lines_with(&s, "X-Spam-Score: 0.1\r\n\r\n", &mut h), v(&["fileinto \"tested\""]));
    assert_eq!(lines_with(&s, "Subject: no score\r\n\r\n", &mut h), v(&["fileinto \"untested\""]));
    assert_eq!(lines(&s, "X-Spam-Score: 9\r\n\r\n"), v(&["fileinto \"untested\""]));
    // §3.2.2: a clean message is "0" with :percent, "1" without.
    let s = format!(
        "{r} if spamtest :percent :is \"0\" {{ fileinto \"p0\"; }} if spamtest :is \"1\" {{ fileinto \"s1\"; }}"
    );
    assert_eq!(lines_with(&s, "X-Spam-Score: -4\r\n\r\n", &mut h), v(&["fileinto \"p0\"", "fileinto \"s1\""]));
}

/// RFC 5235 §3.2.1 example, with a SpamAssassin status header read through a
/// pattern, and the top of the range meaning "10".
#[test]
fn spamtest_rfc_example_with_a_status_pattern() {
    let spam = ScoreHeader::parse("X-Spam-Status: score=(-?[0-9.]+)", Scale::Range { min: 0.0, max: 5.0 }).ok();
    let mut h = TestHost { spam, ..TestHost::default() };
    let s = r#"require ["spamtest", "fileinto", "relational", "comparator-i;ascii-numeric"];
if spamtest :value "eq" :comparator "i;ascii-numeric" "0" { fileinto "INBOX.unclassified"; }
elsif spamtest :value "ge" :comparator "i;ascii-numeric" "3" { fileinto "INBOX.spam-trap"; }"#;
    let m = |status: &str| format!("X-Spam-Status: {status}\r\nSubject: x\r\n\r\nbody\r\n");
    assert_eq!(lines_with(s, &m("Yes, score=7.3 required=5.0"), &mut h), v(&["fileinto \"INBOX.spam-trap\""]));
    assert_eq!(lines_with(s, &m("No, score=0.4 required=5.0"), &mut h), v(&["keep"]));
    assert_eq!(lines_with(s, &m("No, tests=none"), &mut h), v(&["fileinto \"INBOX.unclassified\""]));
    let s10 = "require \"spamtest\"; if spamtest :is \"10\" { discard; }";
    assert_eq!(lines_with(s10, &m("Yes, score=30.0"), &mut h), v(&["discard"]));
}

/// RFC 5235 §3.3: virustest from a scanner's word verdict, 1 to 5.
#[test]
fn virustest_levels() {
    let levels = ["clean", "replaced", "cured", "suspicious", "infected"].map(String::from).to_vec();
    let virus = ScoreHeader::parse("X-Virus-Status: ^(\\w+)", Scale::Levels(levels)).ok();
    let mut h = TestHost { virus, ..TestHost::default() };
    let s = r#"require ["virustest", "fileinto", "relational", "comparator-i;ascii-numeric"];
if virustest :value "eq" :comparator "i;ascii-numeric" "0" { fileinto "unscanned"; }
elsif virustest :value "ge" :comparator "i;ascii-numeric" "4" { fileinto "Quarantine"; }"#;
    let m = |status: &str| format!("X-Virus-Status: {status}\r\n\r\nbody\r\n");
    assert_eq!(lines_with(s, &m("Infected (Eicar-Test-Signature)"), &mut h), v(&["fileinto \"Quarantine\""]));
    assert_eq!(lines_with(s, &m("Suspicious"), &mut h), v(&["fileinto \"Quarantine\""]));
    assert_eq!(lines_with(s, &m("Clean"), &mut h), v(&["keep"]));
    assert_eq!(lines_with(s, &m("whatever"), &mut h), v(&["fileinto \"unscanned\""]));
    let s3 = "require \"virustest\"; if virustest :is \"3\" { discard; }";
    assert_eq!(lines_with(s3, &m("cured"), &mut h), v(&["discard"]));
}

// ---- include (RFC 6609) ----
#[test]
fn include_examples() {
    let mut h = TestHost::default();
    h.scripts.insert(
        "spam_tests".into(),
        "require [\"fileinto\"]; if header :contains \"subject\" \"present\" { fileinto \"spam\"; }".into(),
    );
    h.global_scripts.insert("always".into(), "require \"fileinto\"; fileinto \"all\";".into());
    let s = "require [\"include\"]; include :personal \"spam_tests\"; include :global \"always\";";
    assert_eq!(lines_with(s, MSG, &mut h), v(&["fileinto \"spam\"", "fileinto \"all\""]));
    // :optional and missing
    assert_eq!(on_msg("require \"include\"; include :optional \"nope\";"), v(&["keep"]));
    assert!(runtime_err("require \"include\"; include \"nope\";", MSG).contains("not found"));
    // return ends only the included script; stop ends everything
    h.scripts.insert("ret".into(), "require \"include\"; return; discard;".into());
    h.scripts.insert("stp".into(), "stop;".into());
    assert_eq!(
        lines_with("require \"include\"; include \"ret\"; redirect \"x@y.example\";", MSG, &mut h),
        v(&["redirect \"x@y.example\""])
    );
    assert_eq!(lines_with("require \"include\"; include \"stp\"; discard;", MSG, &mut h), v(&["keep"]));
    // global variables
    h.scripts.insert(
        "setg".into(),
        "require [\"include\", \"variables\"]; global \"who\"; set \"who\" \"coyote\"; set \"local\" \"x\";".into(),
    );
    let s = "require [\"include\", \"variables\", \"fileinto\"]; global \"who\"; include \"setg\"; fileinto \"${who}${local}${global.who}\";";
    assert_eq!(lines_with(s, MSG, &mut h), v(&["fileinto \"coyotecoyote\""]));
    // :once
    h.scripts.insert("once".into(), "require \"fileinto\"; fileinto \"o\";".into());
    let s = "require \"include\"; include :once \"once\"; include :once \"once\";";
    assert_eq!(lines_with(s, MSG, &mut h), v(&["fileinto \"o\""]));
    // a broken included script is a runtime error with its message
    h.scripts.insert("broken".into(), "if hedaer {}".into());
    let o = run_full("require \"include\"; include \"broken\";", MSG, &env(), &mut h).unwrap_err();
    assert!(o.contains("did you mean `header`"), "{o}");
    assert!(compile_err("require \"include\"; include :personal :global \"x\";").contains("cannot be used together"));
    assert!(compile_err("require \"include\"; include \"a/b\";").contains("not a valid script name"));
}

#[test]
fn include_recursion_stopped() {
    let mut h = TestHost::default();
    h.scripts.insert("loop".into(), "require \"include\"; include \"loop\";".into());
    let e = run_full("require \"include\"; include \"loop\";", MSG, &env(), &mut h).unwrap_err();
    assert!(e.contains("nested more than"), "{e}");
    // :once breaks the cycle
    h.scripts.insert("loop2".into(), "require \"include\"; include :once \"loop2\";".into());
    assert!(run_full("require \"include\"; include :once \"loop2\";", MSG, &env(), &mut h).is_ok());
}

// ---- duplicate (RFC 7352) ----
#[test]
fn duplicate_ext() {
    let s =
        "require [\"duplicate\", \"fileinto\", \"mailbox\"]; if duplicate { fileinto :create \"Trash/Duplicate\"; }";
    let mut h = TestHost::default();
    assert_eq!(lines_with(s, MSG, &mut h), v(&["keep"]));
    assert_eq!(lines_with(s, MSG, &mut h), v(&["fileinto \"Trash/Duplicate\" :create"]));
    let s = "require [\"duplicate\", \"variables\"]; if header :matches \"subject\" \"I have *\" { if duplicate :uniqueid \"${1}\" :handle \"x\" :seconds 60 { discard; } }";
    let mut h = TestHost::default();
    assert_eq!(lines_with(s, MSG, &mut h), v(&["keep"]));
    assert_eq!(lines_with(s, MSG, &mut h), v(&["discard"]));
    let s = "require \"duplicate\"; if duplicate :header \"subject\" { discard; }";
    let mut h = TestHost::default();
    lines_with(s, MSG, &mut h);
    assert_eq!(lines_with(s, MSG, &mut h), v(&["discard"]));
    assert!(compile_err("require \"duplicate\"; if duplicate :header \"a\" :uniqueid \"b\" {}")
        .contains("cannot be used together"));
}

// ---- editheader (RFC 5293) ----
#[test]
fn editheader_ext() {
    let s = "require [\"editheader\"]; addheader \"X-Sieve\" \"filtered\"; addheader :last \"X-Last\" \"z\"; deleteheader \"x-caffeine\";";
    let o = run_full(s, MSG, &env(), &mut TestHost::default()).expect("run");
    let hdr = o.edited_header.expect("edited");
    assert!(hdr.starts_with("X-Sieve: filtered\r\n"));
    assert!(hdr.ends_with("X-Last: z\r\n"));
    assert!(!hdr.contains("X-Caffeine"));
    assert_eq!(o.header_edits.len(), 3);
    // tests see the edits
    let s = "require [\"editheader\"]; addheader \"X-Tag\" \"yes\"; if header :is \"x-tag\" \"yes\" { discard; }";
    assert_eq!(on_msg(s), v(&["discard"]));
    let m = "X-A: 1\r\nX-A: 2\r\nX-A: 3\r\n\r\n";
    let s = "require [\"editheader\", \"index\"]; deleteheader :index 1 :last \"x-a\"; if header :is \"x-a\" \"3\" { discard; }";
    assert_eq!(lines(s, m), v(&["keep"]));
    let s = "require \"editheader\"; deleteheader :matches \"x-a\" \"[12]\"; deleteheader :is \"x-a\" \"2\"; if not exists \"x-a\" { discard; }";
    assert_eq!(lines(s, m), v(&["keep"]));
    let s = "require \"editheader\"; deleteheader :is \"x-a\" [\"1\",\"2\",\"3\"]; if not exists \"x-a\" { discard; }";
    assert_eq!(lines(s, m), v(&["discard"]));
    // Received is protected
    let s = "require \"editheader\"; deleteheader \"received\"; if exists \"received\" { discard; }";
    assert_eq!(lines(s, "Received: x\r\n\r\n"), v(&["discard"]));
    assert!(
        compile_err("require \"editheader\"; addheader \"Bad Name\" \"v\";").contains("not a valid header field name")
    );
    assert!(compile_err("addheader \"X\" \"v\";").contains("editheader"));
}

// ---- environment (RFC 5183) ----
#[test]
fn environment_ext() {
    let mut h = TestHost::default();
    h.env.insert("domain".into(), "example.com".into());
    let s = "require \"environment\"; if environment :is \"domain\" \"example.com\" { discard; }";
    assert_eq!(lines_with(s, MSG, &mut h), v(&["discard"]));
    let s = "require \"environment\"; if environment :contains \"name\" \"postfach\" { discard; }";
    assert_eq!(on_msg(s), v(&["discard"]));
    let s = "require \"environment\"; if environment :contains \"remote-host\" \"\" { discard; }";
    assert_eq!(on_msg(s), v(&["keep"]));
    assert!(compile_err("if environment \"a\" \"b\" {}").contains("environment"));
}

// ---- ihave (RFC 5463) ----
#[test]
fn ihave_ext() {
    let s = "require \"ihave\"; if ihave \"fileinto\" { fileinto \"yes\"; }";
    assert_eq!(on_msg(s), v(&["fileinto \"yes\""]));
    // an unknown extension inside an ihave block is not an error
    let s = "require \"ihave\"; if ihave \"x-unknown\" { frobnicate :hard \"x\"; } else { discard; }";
    assert_eq!(on_msg(s), v(&["discard"]));
    let s = "require \"ihave\"; error \"stop here\";";
    assert!(runtime_err(s, MSG).contains("stop here"));
    assert!(compile_err("if ihave \"fileinto\" {}").contains("ihave"));
}

// ---- mime + foreverypart + extracttext (RFC 5703) ----
#[test]
fn mime_ext() {
    let m = "Content-Type: multipart/mixed; boundary=B\r\nSubject: parts\r\n\r\n--B\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nHello there, general Kenobi\r\n--B\r\nContent-Type: application/zip; name=\"evil.exe.zip\"\r\nContent-Disposition: attachment; filename=\"evil.exe.zip\"\r\n\r\nPK\r\n--B--\r\n";
    let s = r#"require ["mime", "foreverypart", "fileinto"];
foreverypart {
  if header :mime :param "filename" :matches "Content-Disposition" "*.zip" { fileinto "zips"; break; }
}"#;
    assert_eq!(lines(s, m), v(&["fileinto \"zips\""]));
    let s = "require [\"mime\"]; if header :mime :anychild :subtype \"content-type\" \"zip\" { discard; }";
    assert_eq!(lines(s, m), v(&["discard"]));
    let s = "require [\"mime\"]; if header :mime :type \"content-type\" \"multipart\" { discard; }";
    assert_eq!(lines(s, m), v(&["discard"]));
    let s = "require [\"mime\"]; if exists :mime :anychild \"content-disposition\" { discard; }";
    assert_eq!(lines(s, m), v(&["discard"]));
    let s = r#"require ["mime", "foreverypart", "extracttext", "variables", "fileinto"];
foreverypart {
  if header :mime :type "content-type" "text" {
    extracttext :first 5 "t";
    fileinto "got-${t}";
  }
}"#;
    assert_eq!(lines(s, m), v(&["fileinto \"got-Hello\""]));
    assert!(compile_err("require [\"foreverypart\"]; break;").contains("outside of `foreverypart`"));
    assert!(
        compile_err("require [\"extracttext\", \"variables\"]; extracttext \"x\";").contains("inside `foreverypart`")
    );
    assert!(compile_err("require \"foreverypart\"; foreverypart :name \"a\" { break :name \"b\"; }")
        .contains("no enclosing"));
    assert!(compile_err("if header :type \"content-type\" \"x\" {}").contains("mime"));
    assert!(compile_err("require \"mime\"; if header :type \"content-type\" \"x\" {}").contains("needs `:mime`"));
}
