//! SORT (RFC 5256, RFC 5957 DISPLAYFROM/DISPLAYTO), ESORT (RFC 5267 §3),
//! PARTIAL (RFC 9394) and THREAD (ORDEREDSUBJECT, REFERENCES, REFS) against
//! small corpora whose expected answers are computed by hand below.
//!
//! SORT from the stored sort keys (issue #6) against the reference: on a
//! seeded random corpus, every SORT answer equals what `sort_item`/`sort`
//! (the keys computed from each message's stored metadata at SORT time,
//! as SORT did before the keys were stored) give for the same messages.
//! That corpus has many ties (few distinct dates, sizes, subjects,
//! addresses), non-ASCII and RFC 2047 text, missing and broken headers; some
//! messages are stored without sort keys, as messages stored before
//! migration 12 are, and some arrive by COPY and MOVE. The comparison runs
//! for every key alone, REVERSE and several keys, with and without a search
//! program, before and after the mailbox changes (appends, expunges, flag
//! changes, copies), so that the server's cache of sort orders is checked too.

mod common;

use common::Raw;
use imap_proto::{SortCriterion, SortKey};
use postfach::imap::sort::{sort, sort_item};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

#[track_caller]
fn assert_ok(lines: &[String]) {
    assert!(lines.last().unwrap().starts_with("T OK"), "{lines:?}");
}

/// The one untagged line starting with `prefix`.
#[track_caller]
fn untagged<'a>(lines: &'a [String], prefix: &str) -> &'a str {
    let found: Vec<&String> = lines.iter().filter(|l| l.starts_with(prefix)).collect();
    assert_eq!(found.len(), 1, "expected one {prefix} in {lines:?}");
    found[0]
}

async fn append_at(raw: &mut Raw, mailbox: &str, date: &str, msg: &str) {
    raw.send(format!("A APPEND {mailbox} \"{date}\" {{{}+}}\r\n", msg.len()).as_bytes()).await;
    raw.send(msg.as_bytes()).await;
    raw.send(b"\r\n").await;
    let r = raw.until_tagged("A").await;
    assert!(r.last().unwrap().starts_with("A OK"), "{r:?}");
}

/// Appends and expunges one message so that UIDs are sequence numbers + 1.
async fn shift_uids(raw: &mut Raw, mailbox: &str) {
    append_at(raw, mailbox, "01-Jan-2000 00:00:00 +0000", "Subject: gone\r\n\r\nx\r\n").await;
    assert_ok(&raw.cmd(&format!("SELECT {mailbox}")).await);
    assert_ok(&raw.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)").await);
    assert_ok(&raw.cmd("EXPUNGE").await);
}

fn pad(n: usize) -> String {
    "x".repeat(n)
}

/// The SORT corpus. Keys per message (sequence number):
///
/// | # | FROM (mailbox) | DISPLAYFROM | TO   | DISPLAYTO  | CC    | base subject | sent date (UTC) | arrival | size    |
/// |---|----------------|-------------|------|------------|-------|--------------|-----------------|---------|---------|
/// | 1 | zed            | Zed         | bob  | Bob        | carol | apple        | Jan 3 10:00     | Jan 1   | ~5000   |
/// | 2 | alice          | alice@b.org | zz   | amy        |       | banana       | Jan 1 10:00     | Jan 5   | ~1000   |
/// | 3 | Bob            | Ärger       | dave | dave@x.org | al    | Apple        | Jan 2 10:00     | Jan 3   | ~3000   |
/// | 4 |                |             |      |            |       |              | (Jan 7 00:00)   | Jan 7   | ~6000   |
/// | 5 | carl           | carl        | bob  | Bob        |       | cherry       | Jan 2 10:00     | Jan 4   | ~2000   |
/// | 6 | zed            | Zed         |      |            |       | apple        | Jan 5 10:00     | Jan 6   | ~4000   |
fn sort_corpus() -> Vec<(&'static str, String)> {
    vec![
        (
            "01-Jan-2024 00:00:00 +0000",
            format!(
                "From: Zed <zed@a.org>\r\nTo: Bob <bob@x.org>\r\nCc: carol@y.org\r\nSubject: Re: apple\r\n\
                 Date: Wed, 3 Jan 2024 10:00:00 +0000\r\n\r\n{}\r\n",
                pad(5000)
            ),
        ),
        (
            "05-Jan-2024 00:00:00 +0000",
            format!(
                "From: alice@b.org\r\nTo: amy <zz@x.org>\r\nSubject: banana\r\n\
                 Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\n{}\r\n",
                pad(1000)
            ),
        ),
        (
            "03-Jan-2024 00:00:00 +0000",
            format!(
                "From: =?UTF-8?Q?=C3=84rger?= <Bob@c.org>\r\nTo: dave@x.org\r\nCc: Al <al@y.org>\r\n\
                 Subject: [tag] Apple\r\nDate: Tue, 2 Jan 2024 10:00:00 +0000\r\n\r\n{}\r\n",
                pad(3000)
            ),
        ),
        ("07-Jan-2024 00:00:00 +0000", format!("X-Nothing: here\r\n\r\n{}\r\n", pad(6000))),
        (
            "04-Jan-2024 00:00:00 +0000",
            format!(
                "From: carl <carl@d.org>\r\nTo: Bob <bob@x.org>\r\nSubject: Fwd: cherry\r\n\
                 Date: Tue, 2 Jan 2024 10:00:00 +0000\r\n\r\n{}\r\n",
                pad(2000)
            ),
        ),
        (
            "06-Jan-2024 00:00:00 +0000",
            format!(
                "From: Zed <zed@a.org>\r\nSubject: apple (fwd)\r\n\
                 Date: Fri, 5 Jan 2024 11:00:00 +0100\r\n\r\n{}\r\n",
                pad(4000)
            ),
        ),
    ]
}

async fn sort_mailbox(raw: &mut Raw) {
    assert_ok(&raw.cmd("CREATE Sorting").await);
    shift_uids(raw, "Sorting").await;
    for (date, msg) in sort_corpus() {
        append_at(raw, "Sorting", date, &msg).await;
    }
    assert_ok(&raw.cmd("SELECT Sorting").await);
}

#[tokio::test]
async fn sort_every_key_reverse_and_ties() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    let caps = raw.cmd("CAPABILITY").await;
    for cap in ["SORT", "SORT=DISPLAY", "THREAD=ORDEREDSUBJECT", "THREAD=REFERENCES", "THREAD=REFS", "ESORT", "PARTIAL"]
    {
        assert!(caps[0].split(' ').any(|c| c == cap), "{cap} missing: {caps:?}");
    }
    sort_mailbox(&mut raw).await;
    let cases = [
        ("ARRIVAL", "1 3 5 2 6 4"),
        ("REVERSE ARRIVAL", "4 6 2 5 3 1"),
        // 3 and 5 have the same sent date: sequence order breaks the tie,
        // also under REVERSE. 4 has no Date: its internal date is used.
        ("DATE", "2 3 5 1 6 4"),
        ("REVERSE DATE", "4 6 1 3 5 2"),
        ("SIZE", "2 5 3 6 1 4"),
        ("REVERSE SIZE", "4 1 6 3 5 2"),
        // Empty (absent) sorts first; "apple" ties 1, 3, 6 (case-folded).
        ("SUBJECT", "4 1 3 6 2 5"),
        ("REVERSE SUBJECT", "5 2 1 3 6 4"),
        ("SUBJECT REVERSE DATE", "4 6 1 3 2 5"),
        ("SUBJECT DATE", "4 3 1 6 2 5"),
        ("FROM", "4 2 3 5 1 6"),
        ("FROM REVERSE DATE", "4 2 3 5 6 1"),
        ("REVERSE FROM", "1 6 5 3 2 4"),
        ("TO", "4 6 1 5 3 2"),
        ("CC", "2 4 5 6 3 1"),
        ("REVERSE CC", "1 3 2 4 5 6"),
        // "ärger" sorts after "zed" by code point.
        ("DISPLAYFROM", "4 2 5 1 6 3"),
        ("DISPLAYTO", "4 6 2 1 5 3"),
        ("REVERSE DISPLAYTO SIZE", "3 5 1 2 6 4"),
        ("to size", "6 4 5 1 3 2"),
    ];
    for (criteria, expected) in cases {
        let r = raw.cmd(&format!("SORT ({criteria}) UTF-8 ALL")).await;
        assert_ok(&r);
        assert_eq!(untagged(&r, "* SORT"), format!("* SORT {expected}"), "SORT ({criteria})");
    }
    // UID SORT answers UIDs (here sequence number + 1).
    let r = raw.cmd("UID SORT (DATE) US-ASCII ALL").await;
    assert_eq!(untagged(&r, "* SORT"), "* SORT 3 4 6 2 7 5");
    // Search criteria as in SEARCH, including an RFC 5256 empty result.
    let r = raw.cmd("SORT (REVERSE DATE) UTF-8 FROM zed").await;
    assert_eq!(untagged(&r, "* SORT"), "* SORT 6 1");
    let r = raw.cmd("SORT (SUBJECT) UTF-8 OR TO bob LARGER 5500").await;
    assert_eq!(untagged(&r, "* SORT"), "* SORT 4 1 5");
    let r = raw.cmd("SORT (SUBJECT) US-ASCII TEXT \"not in mailbox\"").await;
    assert_eq!(untagged(&r, "* SORT"), "* SORT");
    // Charsets other than UTF-8 and US-ASCII: NO [BADCHARSET].
    let r = raw.cmd("SORT (DATE) KOI8-R ALL").await;
    assert!(r.last().unwrap().starts_with("T NO [BADCHARSET"), "{r:?}");
    for bad in ["SORT (BOGUS) UTF-8 ALL", "SORT () UTF-8 ALL", "SORT (DATE) UTF-8", "SORT DATE UTF-8 ALL"] {
        let r = raw.cmd(bad).await;
        assert!(r.last().unwrap().starts_with("T BAD"), "{bad}: {r:?}");
    }
}

#[tokio::test]
async fn esort_and_partial() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    sort_mailbox(&mut raw).await;
    // DATE order: 2 3 5 1 6 4 (UIDs 3 4 6 2 7 5).
    let r = raw.cmd("SORT RETURN (MIN MAX COUNT) (DATE) UTF-8 ALL").await;
    assert_ok(&r);
    assert_eq!(untagged(&r, "* ESEARCH"), "* ESEARCH (TAG \"T\") MIN 2 MAX 4 COUNT 6");
    // RETURN () is ALL; ranges only for ascending runs (RFC 5267 §3.2).
    let r = raw.cmd("UID SORT RETURN () (DATE) UTF-8 ALL").await;
    assert_eq!(untagged(&r, "* ESEARCH"), "* ESEARCH (TAG \"T\") UID ALL 3:4,6,2,7,5");
    let r = raw.cmd("SORT RETURN (ALL) (REVERSE SIZE) UTF-8 ALL").await;
    assert_eq!(untagged(&r, "* ESEARCH"), "* ESEARCH (TAG \"T\") ALL 4,1,6,3,5,2");
    let r = raw.cmd("SORT RETURN (COUNT) (DATE) UTF-8 FROM nobody").await;
    assert_eq!(untagged(&r, "* ESEARCH"), "* ESEARCH (TAG \"T\") COUNT 0");
    // PARTIAL on SORT: positions in sort order.
    let r = raw.cmd("SORT RETURN (PARTIAL 2:4) (DATE) UTF-8 ALL").await;
    assert_eq!(untagged(&r, "* ESEARCH"), "* ESEARCH (TAG \"T\") PARTIAL (2:4 3,5,1)");
    let r = raw.cmd("SORT RETURN (PARTIAL -1:-2 COUNT) (DATE) UTF-8 ALL").await;
    assert_eq!(untagged(&r, "* ESEARCH"), "* ESEARCH (TAG \"T\") COUNT 6 PARTIAL (-1:-2 6,4)");
    let r = raw.cmd("UID SORT RETURN (PARTIAL 5:100) (DATE) UTF-8 ALL").await;
    assert_eq!(untagged(&r, "* ESEARCH"), "* ESEARCH (TAG \"T\") UID PARTIAL (5:100 7,5)");
    let r = raw.cmd("SORT RETURN (PARTIAL 10:20) (DATE) UTF-8 ALL").await;
    assert_eq!(untagged(&r, "* ESEARCH"), "* ESEARCH (TAG \"T\") PARTIAL (10:20 NIL)");
    // PARTIAL on SEARCH (RFC 9394 §3.1): positions in mailbox order.
    let r = raw.cmd("SEARCH RETURN (PARTIAL 1:3) ALL").await;
    assert_eq!(untagged(&r, "* ESEARCH"), "* ESEARCH (TAG \"T\") PARTIAL (1:3 1:3)");
    let r = raw.cmd("UID SEARCH RETURN (PARTIAL -1:-2) ALL").await;
    assert_eq!(untagged(&r, "* ESEARCH"), "* ESEARCH (TAG \"T\") UID PARTIAL (-1:-2 6:7)");
    let r = raw.cmd("SEARCH RETURN (PARTIAL 4:2 MIN) NOT FROM zed").await;
    assert_eq!(untagged(&r, "* ESEARCH"), "* ESEARCH (TAG \"T\") MIN 2 PARTIAL (4:2 3:5)");
    // ALL and PARTIAL together, or two PARTIALs, are errors.
    for bad in [
        "SEARCH RETURN (ALL PARTIAL 1:2) ALL",
        "SEARCH RETURN (PARTIAL 1:2 PARTIAL 3:4) ALL",
        "SEARCH RETURN (PARTIAL 0:2) ALL",
        "SEARCH RETURN (PARTIAL -1:2) ALL",
        "SORT RETURN (PARTIAL 1:*) (DATE) UTF-8 ALL",
    ] {
        let r = raw.cmd(bad).await;
        assert!(r.last().unwrap().starts_with("T BAD"), "{bad}: {r:?}");
    }
    // SAVE with PARTIAL saves what PARTIAL returned (RFC 9394 §3.2).
    let r = raw.cmd("SEARCH RETURN (SAVE PARTIAL 2:3) ALL").await;
    assert_eq!(untagged(&r, "* ESEARCH"), "* ESEARCH (TAG \"T\") PARTIAL (2:3 2:3)");
    let r = raw.cmd("UID SEARCH RETURN (ALL) $").await;
    assert_eq!(untagged(&r, "* ESEARCH"), "* ESEARCH (TAG \"T\") UID ALL 3:4");
    // UID FETCH … (PARTIAL …) (RFC 9394 §3.3): positions among the
    // existing messages of the set, by UID.
    let r = raw.cmd("UID FETCH 1:* (FLAGS) (PARTIAL -1:-2)").await;
    assert_ok(&r);
    let fetched: Vec<&String> = r.iter().filter(|l| l.starts_with("* ") && l.contains(" FETCH ")).collect();
    assert_eq!(fetched.len(), 2, "{r:?}");
    assert!(fetched[0].starts_with("* 5 FETCH") && fetched[0].contains("UID 6"), "{r:?}");
    assert!(fetched[1].starts_with("* 6 FETCH") && fetched[1].contains("UID 7"), "{r:?}");
    let r = raw.cmd("UID FETCH 3:100 (UID) (PARTIAL 1:2)").await;
    let uids: Vec<&String> = r.iter().filter(|l| l.starts_with("* ") && l.contains(" FETCH ")).collect();
    assert_eq!(uids.len(), 2, "{r:?}");
    assert!(uids[0].contains("UID 3") && uids[1].contains("UID 4"), "{r:?}");
    let r = raw.cmd("UID FETCH 1:* (UID) (PARTIAL 50:60)").await;
    assert_eq!(r.len(), 1, "{r:?}");
    assert_ok(&r);
    let r = raw.cmd("FETCH 1:* (UID) (PARTIAL 1:2)").await;
    assert!(r.last().unwrap().starts_with("T BAD"), "{r:?}");
    // SORT RETURN (SAVE) saves the matches; SORT over $ sorts them.
    assert_ok(&raw.cmd("SORT RETURN (SAVE) (DATE) UTF-8 FROM zed").await);
    let r = raw.cmd("SORT (REVERSE ARRIVAL) UTF-8 $").await;
    assert_eq!(untagged(&r, "* SORT"), "* SORT 6 1");
}

/// Headers of one thread-corpus message.
fn tmsg(subject: &str, id: Option<&str>, refs: &str, date: &str) -> String {
    let mut m = format!("From: someone@example.org\r\nSubject: {subject}\r\nDate: {date}\r\n");
    if let Some(id) = id {
        m.push_str(&format!("Message-ID: <{id}>\r\n"));
    }
    m.push_str(refs);
    m.push_str("\r\nbody\r\n");
    m
}

/// A mailing-list-like corpus of 20 messages (sequence numbers 1–20, UIDs 2–21):
///
/// - 1 "Meeting plans" (m1); 2 replies to 1 (References), 3 to 2, 14 to 3
///   (References m1 m3: 3 keeps its parent 2), 4 to 1 by In-Reply-To but
///   sent last (Jan 8); 16 reuses m1's Message-ID (gets a unique one) and
///   has the same base subject, not a reply: REFERENCES puts 1's thread and
///   16 under a dummy.
/// - 5 "Lunch" (l1), 6 replies with `References: <l0> <l1>` (l0 missing:
///   a dummy parent of 5, pruned), 20 replies by In-Reply-To, sent before 6.
/// - 7 and 8 "Re: Budget" reply to a missing b1 (a dummy with two children);
///   9 "Budget" without references joins that dummy by subject.
/// - 10 "Vacation photos", 11 "Fwd: Vacation photos" (no references): 11 is a
///   forward, so it becomes 10's child.
/// - 12 and 13 "Party", neither a reply: a new dummy holds both.
/// - 15 "Hello" without Message-ID; 17 "Re: Hello" In-Reply-To a missing
///   message (with trailing text): 17 becomes 15's child by subject.
/// - 18 and 19 reference each other: 18 is linked under 19 first, and
///   19's reference to 18 would make a loop, so it is dropped.
fn thread_corpus() -> Vec<String> {
    vec![
        tmsg("Meeting plans", Some("m1@x"), "", "Mon, 1 Jan 2024 10:00:00 +0000"),
        tmsg("Re: Meeting plans", Some("m2@x"), "References: <m1@x>\r\n", "Mon, 1 Jan 2024 11:00:00 +0000"),
        tmsg("Re: Meeting plans", Some("m3@x"), "References: <m1@x>\r\n <m2@x>\r\n", "Mon, 1 Jan 2024 12:00:00 +0000"),
        tmsg("RE: meeting plans", Some("m4@x"), "In-Reply-To: <m1@x>\r\n", "Mon, 8 Jan 2024 09:00:00 +0000"),
        tmsg("Lunch", Some("l1@x"), "", "Tue, 2 Jan 2024 09:00:00 +0000"),
        tmsg("Re: Lunch", Some("l2@x"), "References: <l0@x> <l1@x>\r\n", "Tue, 2 Jan 2024 10:00:00 +0000"),
        tmsg("Re: Budget", Some("b2@x"), "References: <b1@x>\r\n", "Wed, 3 Jan 2024 10:00:00 +0000"),
        tmsg("Re: Budget", Some("b3@x"), "References: <b1@x>\r\n", "Wed, 3 Jan 2024 11:00:00 +0000"),
        tmsg("Budget", Some("b0@x"), "", "Tue, 2 Jan 2024 20:00:00 +0000"),
        tmsg("Vacation photos", Some("v1@x"), "", "Thu, 4 Jan 2024 10:00:00 +0000"),
        tmsg("Fwd: Vacation photos", Some("v2@x"), "", "Thu, 4 Jan 2024 12:00:00 +0000"),
        tmsg("Party", Some("p1@x"), "", "Fri, 5 Jan 2024 10:00:00 +0000"),
        tmsg("Party", Some("p2@x"), "", "Fri, 5 Jan 2024 11:00:00 +0000"),
        tmsg("Re: Meeting plans", Some("m5@x"), "References: <m1@x> <m3@x>\r\n", "Mon, 1 Jan 2024 14:00:00 +0000"),
        tmsg("Hello", None, "", "Sat, 6 Jan 2024 10:00:00 +0000"),
        tmsg("Meeting plans", Some("m1@x"), "", "Sat, 6 Jan 2024 11:00:00 +0000"),
        tmsg("Re: Hello", Some("h2@x"), "In-Reply-To: <h1@x> (Hello's message)\r\n", "Sat, 6 Jan 2024 12:00:00 +0000"),
        tmsg("Loop A", Some("la@x"), "References: <lb@x>\r\n", "Sun, 7 Jan 2024 10:00:00 +0000"),
        tmsg("Loop B", Some("lb@x"), "References: <la@x>\r\n", "Sun, 7 Jan 2024 11:00:00 +0000"),
        tmsg("Re: Lunch", Some("l3@x"), "In-Reply-To: <l1@x>\r\n", "Tue, 2 Jan 2024 09:30:00 +0000"),
    ]
}

#[tokio::test]
async fn thread_algorithms_on_a_corpus() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    assert_ok(&raw.cmd("CREATE Threads").await);
    shift_uids(&mut raw, "Threads").await;
    for m in thread_corpus() {
        append_at(&mut raw, "Threads", "10-Jan-2024 00:00:00 +0000", &m).await;
    }
    assert_ok(&raw.cmd("SELECT Threads").await);

    // ORDEREDSUBJECT: one thread per base subject, ordered by first sent
    // date; the first message is the parent of all others.
    let r = raw.cmd("THREAD ORDEREDSUBJECT UTF-8 ALL").await;
    assert_ok(&r);
    assert_eq!(
        untagged(&r, "* THREAD"),
        "* THREAD (1 (2)(3)(14)(16)(4))(5 (20)(6))(9 (7)(8))(10 11)(12 13)(15 17)(18)(19)"
    );
    // REFERENCES, hand-computed through steps 1–6 of RFC 5256 §3.
    let r = raw.cmd("THREAD REFERENCES UTF-8 ALL").await;
    assert_ok(&r);
    assert_eq!(
        untagged(&r, "* THREAD"),
        "* THREAD ((1 (2 3 14)(4))(16))(5 (20)(6))((9)(7)(8))(10 11)((12)(13))(15 17)(19 18)"
    );
    // REFS: no subject merging; threads ordered by their latest message
    // (1's thread last: 4 was sent on Jan 8).
    let r = raw.cmd("THREAD REFS UTF-8 ALL").await;
    assert_ok(&r);
    assert_eq!(
        untagged(&r, "* THREAD"),
        "* THREAD (5 (20)(6))(9)((7)(8))(10)(11)(12)(13)(15)(16)(17)(19 18)(1 (2 3 14)(4))"
    );
    // Only the searched messages take part: 6 and 20 share the missing
    // parents l0/l1, a dummy (RFC 5256 §4's `((3)(5))`).
    let r = raw.cmd("THREAD REFERENCES UTF-8 6,20").await;
    assert_eq!(untagged(&r, "* THREAD"), "* THREAD ((20)(6))");
    let r = raw.cmd("UID THREAD ORDEREDSUBJECT UTF-8 SUBJECT lunch").await;
    assert_eq!(untagged(&r, "* THREAD"), "* THREAD (6 (21)(7))");
    let r = raw.cmd("UID THREAD REFERENCES UTF-8 SUBJECT lunch").await;
    assert_eq!(untagged(&r, "* THREAD"), "* THREAD (6 (21)(7))");
    let r = raw.cmd("THREAD REFERENCES US-ASCII SUBJECT nothing-like-this").await;
    assert_eq!(untagged(&r, "* THREAD"), "* THREAD");
    let r = raw.cmd("THREAD REFERENCES ISO-2022-JP ALL").await;
    assert!(r.last().unwrap().starts_with("T NO [BADCHARSET"), "{r:?}");
    let r = raw.cmd("THREAD JWZ UTF-8 ALL").await;
    assert!(r.last().unwrap().starts_with("T BAD"), "{r:?}");
}

const KEYS: &[(SortKey, &str)] = &[
    (SortKey::Arrival, "ARRIVAL"),
    (SortKey::Date, "DATE"),
    (SortKey::Size, "SIZE"),
    (SortKey::Subject, "SUBJECT"),
    (SortKey::From, "FROM"),
    (SortKey::To, "TO"),
    (SortKey::Cc, "CC"),
    (SortKey::DisplayFrom, "DISPLAYFROM"),
    (SortKey::DisplayTo, "DISPLAYTO"),
];

const ADDRESSES: &[&str] = &[
    "Zed <zed@a.org>",
    "alice@b.org",
    "=?UTF-8?Q?=C3=84rger?= <bob@c.org>",
    "\"Bob\" <BOB@c.org>",
    "carl <Carl@d.org>",
    "Ärger <aerger@x.org>",
    "=?ISO-8859-1?Q?Stra=DFe?= <s@x.org>",
    "STRASSE <s@x.org>",
    "émile@x.org",
    "undisclosed-recipients:;",
    "[x] <weird@y.org>",
    "_under <u@y.org>",
];

const SUBJECTS: &[&str] = &[
    "apple",
    "Apple",
    "Re: apple",
    "RE: [tag] Apple",
    "Fwd: banana",
    "banana (fwd)",
    "[Fwd: Re: cherry]",
    "Ärger",
    "ärger",
    "=?UTF-8?B?w6RyZ2Vy?=",
    "straße",
    "STRASSE",
    "",
    "   spaced \t  out  ",
    "Re: [list] Re: x",
    "[PATCH]",
    "zebra",
    "[zebra]",
];

const DATES: &[&str] = &[
    "Mon, 1 Jan 2024 10:00:00 +0000",
    "Mon, 1 Jan 2024 11:00:00 +0100",
    "Tue, 2 Jan 2024 10:00:00 -0500",
    "Wed, 3 Jan 2024 10:00:00 +0000",
    "not a date at all",
];

/// A random message and its INTERNALDATE.
fn generate(rng: &mut StdRng) -> (String, String) {
    let mut h = String::new();
    if rng.gen_bool(0.9) {
        h.push_str(&format!("From: {}\r\n", ADDRESSES.choose(rng).unwrap()));
    }
    if rng.gen_bool(0.8) {
        let n = rng.gen_range(1..3);
        let to: Vec<&str> = (0..n).map(|_| *ADDRESSES.choose(rng).unwrap()).collect();
        h.push_str(&format!("To: {}\r\n", to.join(", ")));
    }
    if rng.gen_bool(0.4) {
        h.push_str(&format!("Cc: {}\r\n", ADDRESSES.choose(rng).unwrap()));
    }
    if rng.gen_bool(0.9) {
        h.push_str(&format!("Subject: {}\r\n", SUBJECTS.choose(rng).unwrap()));
    }
    if rng.gen_bool(0.8) {
        h.push_str(&format!("Date: {}\r\n", DATES.choose(rng).unwrap()));
    }
    let body = "x".repeat(*[10, 10, 100, 1000].choose(rng).unwrap());
    let internal = format!("0{}-Jan-2024 0{}:00:00 +0000", rng.gen_range(1..4), rng.gen_range(0..2));
    (internal, format!("{h}\r\n{body}\r\n"))
}

/// Stores a message without sort keys, as before migration 12.
async fn append_without_keys(acc: &store::Account, mailbox: store::MailboxId, msg: &str, internal_date: i64) {
    let bytes = msg.as_bytes().to_vec();
    let mut meta = postfach::imap::fetch::compute_meta(&bytes);
    meta.sort = None;
    let blob = acc.blobs().write(&bytes).unwrap();
    let m = store::NewMessage {
        blob,
        size: bytes.len() as u64,
        prefix: Vec::new(),
        flags: store::Flags::default(),
        internal_date,
        internal_date_zone: 0,
        meta,
    };
    acc.append(mailbox, vec![m]).await.unwrap();
}

/// The numbers of the one `* SORT` or `* SEARCH` response.
#[track_caller]
fn numbers(lines: &[String], prefix: &str) -> Vec<u32> {
    assert_ok(lines);
    untagged(lines, prefix)[prefix.len()..].split_whitespace().map(|n| n.parse().unwrap()).collect()
}

fn criteria_text(criteria: &[SortCriterion]) -> String {
    let name = |k: SortKey| KEYS.iter().find(|(key, _)| *key == k).unwrap().1;
    let words: Vec<String> =
        criteria.iter().map(|c| format!("{}{}", if c.reverse { "REVERSE " } else { "" }, name(c.key))).collect();
    words.join(" ")
}

/// Every key alone and reversed, and random combinations of two or three.
fn criteria_cases(rng: &mut StdRng) -> Vec<Vec<SortCriterion>> {
    let mut cases = Vec::new();
    for &(key, _) in KEYS {
        cases.push(vec![SortCriterion { key, reverse: false }]);
        cases.push(vec![SortCriterion { key, reverse: true }]);
    }
    for _ in 0..12 {
        let n = rng.gen_range(2..4);
        let keys: Vec<&(SortKey, &str)> = KEYS.choose_multiple(rng, n).collect();
        cases.push(keys.iter().map(|&&(key, _)| SortCriterion { key, reverse: rng.gen_bool(0.5) }).collect());
    }
    cases
}

/// Compares SORT and UID SORT with the reference for every case, over
/// `program` (a search program; its matches come from UID SEARCH).
async fn compare(
    raw: &mut Raw,
    acc: &store::Account,
    mailbox: store::MailboxId,
    cases: &[Vec<SortCriterion>],
    program: &str,
) {
    let view = numbers(&raw.cmd("UID SEARCH ALL").await, "* SEARCH");
    let matched = numbers(&raw.cmd(&format!("UID SEARCH {program}")).await, "* SEARCH");
    let records = acc.records(mailbox, matched.clone()).await.unwrap();
    assert_eq!(records.len(), matched.len());
    for criteria in cases {
        let mut items: Vec<_> = records
            .iter()
            .map(|r| {
                let seq = view.binary_search(&r.uid).unwrap() as u32 + 1;
                sort_item(seq, r, criteria)
            })
            .collect();
        sort(&mut items, criteria);
        let text = criteria_text(criteria);
        let seqs = numbers(&raw.cmd(&format!("SORT ({text}) UTF-8 {program}")).await, "* SORT");
        assert_eq!(seqs, items.iter().map(|i| i.seq).collect::<Vec<_>>(), "SORT ({text}) UTF-8 {program}");
        let uids = numbers(&raw.cmd(&format!("UID SORT ({text}) UTF-8 {program}")).await, "* SORT");
        assert_eq!(uids, items.iter().map(|i| i.uid).collect::<Vec<_>>(), "UID SORT ({text}) UTF-8 {program}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sort_keys_match_the_reference_on_a_random_corpus() {
    let server = common::start().await;
    let id = server.store.account_id(common::USER).unwrap().unwrap();
    let acc = server.store.account(id).unwrap();
    let mut rng = StdRng::seed_from_u64(5256);
    let mut raw = Raw::login(server.addr).await;
    assert_ok(&raw.cmd("CREATE Sorting").await);
    assert_ok(&raw.cmd("CREATE Other").await);
    let sorting = acc.mailbox("Sorting").await.unwrap().unwrap().id;
    let other = acc.mailbox("Other").await.unwrap().unwrap().id;

    // Most messages by APPEND, one in five without keys; some in Other,
    // copied over later (with their keys, or without).
    for i in 0..240 {
        let (date, msg) = generate(&mut rng);
        match i % 10 {
            0 | 5 => append_without_keys(&acc, sorting, &msg, 1_704_067_200 + rng.gen_range(0..3) * 86_400).await,
            3 => append_at(&mut raw, "Other", &date, &msg).await,
            7 => append_without_keys(&acc, other, &msg, 1_704_067_200).await,
            _ => append_at(&mut raw, "Sorting", &date, &msg).await,
        }
    }
    assert_ok(&raw.cmd("SELECT Other").await);
    assert_ok(&raw.cmd("COPY 1:* Sorting").await);
    assert_ok(&raw.cmd("SELECT Sorting").await);
    // Expunges, so that sequence numbers are not UIDs.
    assert_ok(&raw.cmd("STORE 2,7,30:33 +FLAGS.SILENT (\\Deleted)").await);
    assert_ok(&raw.cmd("EXPUNGE").await);
    assert_ok(&raw.cmd("STORE 1:15,40:70,100:130,200:210 +FLAGS.SILENT (\\Seen)").await);

    let cases = criteria_cases(&mut rng);
    let programs = ["ALL", "UNSEEN", "LARGER 500", "OR FROM zed SUBJECT apple", "NOT 10:40"];
    for program in programs {
        compare(&mut raw, &acc, sorting, &cases, program).await;
    }

    // The mailbox changes under the cached orders: another session appends,
    // expunges and changes flags; then messages without keys and copies
    // arrive.
    let mut other_session = Raw::login(server.addr).await;
    assert_ok(&other_session.cmd("SELECT Sorting").await);
    for _ in 0..16 {
        let (date, msg) = generate(&mut rng);
        append_at(&mut other_session, "Sorting", &date, &msg).await;
    }
    assert_ok(&other_session.cmd("STORE 3:12 +FLAGS.SILENT (\\Deleted)").await);
    assert_ok(&other_session.cmd("EXPUNGE").await);
    assert_ok(&other_session.cmd("STORE 1:20 FLAGS.SILENT (\\Flagged)").await);
    assert_ok(&raw.cmd("NOOP").await);
    for program in ["ALL", "FLAGGED"] {
        compare(&mut raw, &acc, sorting, &cases, program).await;
    }
    for _ in 0..4 {
        let (_, msg) = generate(&mut rng);
        append_without_keys(&acc, sorting, &msg, 1_704_153_600).await;
    }
    assert_ok(&other_session.cmd("UID COPY 1:* Other").await);
    assert_ok(&other_session.cmd("SELECT Other").await);
    assert_ok(&other_session.cmd("UID MOVE 1:5 Sorting").await);
    assert_ok(&raw.cmd("NOOP").await);
    compare(&mut raw, &acc, sorting, &cases, "ALL").await;
    assert_ok(&raw.cmd("SELECT Other").await);
    compare(&mut raw, &acc, other, &cases, "ALL").await;
}
