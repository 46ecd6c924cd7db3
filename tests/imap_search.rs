//! SEARCH and UID SEARCH against a small known corpus: every RFC 9051
//! §6.4.4 search key, ESEARCH (RFC 4731 and IMAP4rev2) and SEARCHRES
//! (RFC 5182).

mod common;

use std::collections::{BTreeMap, HashSet};

use common::Raw;

fn has(lines: &[String], needle: &str) -> bool {
    lines.iter().any(|l| l.contains(needle))
}

fn tagged(lines: &[String]) -> &str {
    lines.last().expect("a tagged line")
}

#[track_caller]
fn assert_ok(lines: &[String]) {
    assert!(tagged(lines).starts_with("T OK"), "{lines:?}");
}

const MSG1: &str = "From: Alice Smith <alice@example.org>\r\n\
To: Bob <bob@example.net>\r\n\
Cc: Carol <carol@example.com>\r\n\
Subject: Quarterly Report\r\n\
Date: Mon, 1 Jan 2024 12:00:00 +0000\r\n\
Message-ID: <1@example.org>\r\n\
\r\n\
The numbers look good.\r\n";

const MSG2: &str = "From: Bob <bob@example.net>\r\n\
To: Alice <alice@example.org>\r\n\
Bcc: Dave <dave@example.com>\r\n\
Subject: Lunch?\r\n\
Date: Thu, 15 Feb 2024 12:00:00 +0000\r\n\
X-Priority: 1\r\n\
Message-ID: <2@example.net>\r\n\
\r\n\
Pizza at noon? Bring a banana.\r\n";

const MSG4: &str = "From: alice@example.org\r\n\
To: Dave <dave@example.com>\r\n\
Subject: Re: Quarterly report\r\n\
Date: Wed, 20 Mar 2024 12:00:00 +0000\r\n\
Message-ID: <4@example.org>\r\n\
In-Reply-To: <1@example.org>\r\n\
\r\n\
Draft reply.\r\n";

/// Message 3: an RFC 2047 subject ("Grüße aus München"), 8-bit UTF-8 body,
/// larger than 2000 bytes.
fn msg3() -> Vec<u8> {
    let mut m = String::from(
        "From: Carol <carol@example.com>\r\n\
To: Alice <alice@example.org>\r\n\
Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgTcO8bmNoZW4=?=\r\n\
Date: Sun, 10 Mar 2024 12:00:00 +0000\r\n\
Message-ID: <3@example.com>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: 8bit\r\n\
\r\n\
Servus! Es gibt Käsekuchen.\r\n",
    );
    for _ in 0..60 {
        m.push_str("lorem ipsum dolor sit amet consectetur adipiscing elit\r\n");
    }
    m.into_bytes()
}

/// Appends the corpus to INBOX (UIDs 1–4) and selects it.
async fn corpus(server: &common::TestServer) -> Raw {
    let mut raw = Raw::login(server.addr).await;
    let msgs: [(&str, &str, Vec<u8>); 4] = [
        ("(\\Seen \\Flagged)", "02-Jan-2024 12:00:00 +0000", MSG1.as_bytes().to_vec()),
        ("($Forwarded)", "15-Feb-2024 12:00:00 +0000", MSG2.as_bytes().to_vec()),
        ("(\\Answered \\Deleted)", "10-Mar-2024 12:00:00 +0000", msg3()),
        ("(\\Draft)", "20-Mar-2024 12:00:00 +0000", MSG4.as_bytes().to_vec()),
    ];
    for (flags, date, msg) in msgs {
        raw.send(format!("A APPEND INBOX {flags} \"{date}\" {{{}+}}\r\n", msg.len()).as_bytes()).await;
        raw.send(&msg).await;
        raw.send(b"\r\n").await;
        let r = raw.until_tagged("A").await;
        assert!(tagged(&r).starts_with("A OK [APPENDUID"), "{r:?}");
    }
    let r = raw.cmd("SELECT INBOX").await;
    assert!(has(&r, "* 4 EXISTS"), "{r:?}");
    raw
}

/// The numbers of the single `* SEARCH` response.
#[track_caller]
fn search_numbers(r: &[String]) -> Vec<u32> {
    assert!(tagged(r).starts_with("T OK"), "{r:?}");
    let lines: Vec<&String> = r.iter().filter(|l| l.starts_with("* SEARCH")).collect();
    assert_eq!(lines.len(), 1, "{r:?}");
    lines[0]["* SEARCH".len()..].split_whitespace().map(|n| n.parse().unwrap()).collect()
}

async fn search(raw: &mut Raw, criteria: &str) -> Vec<u32> {
    let r = raw.cmd(&format!("SEARCH {criteria}")).await;
    search_numbers(&r)
}

/// `* ESEARCH (TAG "T") [UID] k v …` → (uid, items).
#[track_caller]
fn esearch(r: &[String]) -> (bool, BTreeMap<String, String>) {
    assert!(tagged(r).starts_with("T OK"), "{r:?}");
    let lines: Vec<&String> = r.iter().filter(|l| l.starts_with("* ESEARCH")).collect();
    assert_eq!(lines.len(), 1, "{r:?}");
    let rest = lines[0].strip_prefix("* ESEARCH (TAG \"T\")").unwrap_or_else(|| panic!("no TAG: {r:?}"));
    let mut toks: Vec<&str> = rest.split_whitespace().collect();
    let uid = toks.first() == Some(&"UID");
    if uid {
        toks.remove(0);
    }
    assert!(toks.len() % 2 == 0, "{r:?}");
    (uid, toks.chunks(2).map(|c| (c[0].to_ascii_uppercase(), c[1].to_string())).collect())
}

/// Sends `T SEARCH <prefix> {n+}CRLF<literal>CRLF`.
async fn search_literal(raw: &mut Raw, prefix: &str, lit: &str) -> Vec<String> {
    raw.send(format!("T {prefix} {{{}+}}\r\n", lit.len()).as_bytes()).await;
    raw.send(lit.as_bytes()).await;
    raw.send(b"\r\n").await;
    raw.until_tagged("T").await
}

// ----- the search keys -----

#[tokio::test]
async fn address_keys_match_substrings_case_insensitively() {
    let server = common::start().await;
    let mut raw = corpus(&server).await;
    assert_eq!(search(&mut raw, "FROM alice").await, [1, 4]);
    assert_eq!(search(&mut raw, "FROM ALICE").await, [1, 4]);
    assert_eq!(search(&mut raw, "FROM \"Smith\"").await, [1]);
    assert_eq!(search(&mut raw, "FROM example.net").await, [2]);
    assert_eq!(search(&mut raw, "TO alice").await, [2, 3]);
    assert_eq!(search(&mut raw, "TO dave").await, [4]);
    assert_eq!(search(&mut raw, "CC carol").await, [1]);
    assert_eq!(search(&mut raw, "BCC dave").await, [2]);
    assert_eq!(search(&mut raw, "BCC nobody").await, Vec::<u32>::new());
}

#[tokio::test]
async fn subject_body_text_and_header() {
    let server = common::start().await;
    let mut raw = corpus(&server).await;
    assert_eq!(search(&mut raw, "SUBJECT report").await, [1, 4]);
    assert_eq!(search(&mut raw, "SUBJECT \"QUARTERLY REPORT\"").await, [1, 4]);
    assert_eq!(search(&mut raw, "SUBJECT \"Re:\"").await, [4]);
    assert_eq!(search(&mut raw, "SUBJECT lunch").await, [2]);
    // BODY looks only at the body, TEXT at header and body.
    assert_eq!(search(&mut raw, "BODY banana").await, [2]);
    assert_eq!(search(&mut raw, "BODY BANANA").await, [2]);
    assert_eq!(search(&mut raw, "BODY carol").await, Vec::<u32>::new());
    assert_eq!(search(&mut raw, "TEXT carol").await, [1, 3]);
    assert_eq!(search(&mut raw, "TEXT banana").await, [2]);
    assert_eq!(search(&mut raw, "TEXT \"numbers look\"").await, [1]);
    assert_eq!(search(&mut raw, "HEADER X-Priority 1").await, [2]);
    // An empty string matches every message with the field (RFC 9051 §6.4.4).
    assert_eq!(search(&mut raw, "HEADER x-priority \"\"").await, [2]);
    assert_eq!(search(&mut raw, "HEADER In-Reply-To \"<1@example.org>\"").await, [4]);
    assert_eq!(search(&mut raw, "HEADER Message-ID example.org").await, [1, 4]);
}

#[tokio::test]
async fn flag_keys() {
    let server = common::start().await;
    let mut raw = corpus(&server).await;
    assert_eq!(search(&mut raw, "ALL").await, [1, 2, 3, 4]);
    assert_eq!(search(&mut raw, "SEEN").await, [1]);
    assert_eq!(search(&mut raw, "UNSEEN").await, [2, 3, 4]);
    assert_eq!(search(&mut raw, "FLAGGED").await, [1]);
    assert_eq!(search(&mut raw, "UNFLAGGED").await, [2, 3, 4]);
    assert_eq!(search(&mut raw, "ANSWERED").await, [3]);
    assert_eq!(search(&mut raw, "UNANSWERED").await, [1, 2, 4]);
    assert_eq!(search(&mut raw, "DELETED").await, [3]);
    assert_eq!(search(&mut raw, "UNDELETED").await, [1, 2, 4]);
    assert_eq!(search(&mut raw, "DRAFT").await, [4]);
    assert_eq!(search(&mut raw, "UNDRAFT").await, [1, 2, 3]);
    assert_eq!(search(&mut raw, "KEYWORD $Forwarded").await, [2]);
    assert_eq!(search(&mut raw, "UNKEYWORD $Forwarded").await, [1, 3, 4]);
    assert_eq!(search(&mut raw, "KEYWORD $Junk").await, Vec::<u32>::new());
    // This session selected first, so every message is \Recent for it
    // (RFC 3501 §2.3.2); NEW is RECENT UNSEEN, OLD is NOT RECENT.
    assert_eq!(search(&mut raw, "RECENT").await, [1, 2, 3, 4]);
    assert_eq!(search(&mut raw, "OLD").await, Vec::<u32>::new());
    let unseen = search(&mut raw, "UNSEEN").await;
    assert_eq!(search(&mut raw, "NEW").await, unseen);
    // Flags changed in this session are searched as they are now.
    assert_ok(&raw.cmd("STORE 2 +FLAGS.SILENT (\\Seen)").await);
    assert_eq!(search(&mut raw, "SEEN").await, [1, 2]);
}

#[tokio::test]
async fn size_keys() {
    let server = common::start().await;
    let mut raw = corpus(&server).await;
    assert_eq!(search(&mut raw, "LARGER 2000").await, [3]);
    assert_eq!(search(&mut raw, "SMALLER 2000").await, [1, 2, 4]);
    let n = MSG1.len();
    // LARGER and SMALLER are strict.
    assert!(!search(&mut raw, &format!("LARGER {n}")).await.contains(&1));
    assert!(!search(&mut raw, &format!("SMALLER {n}")).await.contains(&1));
    assert!(search(&mut raw, &format!("LARGER {}", n - 1)).await.contains(&1));
    assert!(search(&mut raw, &format!("SMALLER {}", n + 1)).await.contains(&1));
}

#[tokio::test]
async fn internal_date_and_sent_date_keys() {
    let server = common::start().await;
    let mut raw = corpus(&server).await;
    // INTERNALDATE (from APPEND): 2 Jan, 15 Feb, 10 Mar, 20 Mar.
    assert_eq!(search(&mut raw, "BEFORE 15-Feb-2024").await, [1]);
    assert_eq!(search(&mut raw, "ON 15-Feb-2024").await, [2]);
    assert_eq!(search(&mut raw, "SINCE 10-Mar-2024").await, [3, 4]);
    assert_eq!(search(&mut raw, "SINCE 16-Feb-2024").await, [3, 4]);
    assert_eq!(search(&mut raw, "ON 1-Jan-2024").await, Vec::<u32>::new());
    assert_eq!(search(&mut raw, "ON 02-Jan-2024").await, [1]);
    assert_eq!(search(&mut raw, "BEFORE 1-Jan-2024").await, Vec::<u32>::new());
    // Date: header: 1 Jan, 15 Feb, 10 Mar, 20 Mar.
    assert_eq!(search(&mut raw, "SENTON 1-Jan-2024").await, [1]);
    assert_eq!(search(&mut raw, "SENTON 02-Jan-2024").await, Vec::<u32>::new());
    assert_eq!(search(&mut raw, "SENTBEFORE 15-Feb-2024").await, [1]);
    assert_eq!(search(&mut raw, "SENTON 10-Mar-2024").await, [3]);
    assert_eq!(search(&mut raw, "SENTSINCE 15-Feb-2024").await, [2, 3, 4]);
    assert_eq!(search(&mut raw, "SENTSINCE 16-Feb-2024 SENTBEFORE 20-Mar-2024").await, [3]);
    // Quoted date (RFC 9051 `date = date-text / DQUOTE date-text DQUOTE`).
    assert_eq!(search(&mut raw, "SINCE \"10-Mar-2024\"").await, [3, 4]);
}

#[tokio::test]
async fn sequence_sets_and_uid_sets() {
    let server = common::start().await;
    let mut raw = corpus(&server).await;
    assert_eq!(search(&mut raw, "2:3").await, [2, 3]);
    assert_eq!(search(&mut raw, "2,4").await, [2, 4]);
    assert_eq!(search(&mut raw, "*").await, [4]);
    assert_eq!(search(&mut raw, "3:*").await, [3, 4]);
    assert_eq!(search(&mut raw, "UID 1:2").await, [1, 2]);
    assert_eq!(search(&mut raw, "UID 4:*").await, [4]);
    // Make UIDs differ from sequence numbers: expunge UID 1.
    assert_ok(&raw.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)").await);
    assert_ok(&raw.cmd("UID EXPUNGE 1").await);
    assert_eq!(search(&mut raw, "1").await, [1]);
    assert_eq!(search(&mut raw, "UID 2").await, [1]);
    let r = raw.cmd("UID SEARCH 1").await;
    assert_eq!(search_numbers(&r), [2], "sequence number 1 is UID 2");
    let r = raw.cmd("UID SEARCH UID 2:3").await;
    assert_eq!(search_numbers(&r), [2, 3]);
    let r = raw.cmd("UID SEARCH UID 1").await;
    assert_eq!(search_numbers(&r), Vec::<u32>::new());
    let r = raw.cmd("UID SEARCH FROM alice").await;
    assert_eq!(search_numbers(&r), [4]);
    // UID `n:*` with n above the largest UID still matches the largest (RFC 9051 §6.4.4 / seq-range).
    let r = raw.cmd("UID SEARCH UID 100:*").await;
    assert_eq!(search_numbers(&r), [4]);
}

#[tokio::test]
async fn not_or_and_nested_parentheses() {
    let server = common::start().await;
    let mut raw = corpus(&server).await;
    assert_eq!(search(&mut raw, "NOT SEEN").await, [2, 3, 4]);
    assert_eq!(search(&mut raw, "OR FLAGGED DRAFT").await, [1, 4]);
    assert_eq!(search(&mut raw, "FROM alice SEEN").await, [1]);
    assert_eq!(search(&mut raw, "(FROM alice SEEN)").await, [1]);
    assert_eq!(search(&mut raw, "NOT (FROM alice SEEN)").await, [2, 3, 4]);
    assert_eq!(search(&mut raw, "OR (SEEN FLAGGED) (NOT (OR DRAFT DELETED) SINCE 01-Feb-2024)").await, [1, 2]);
    assert_eq!(search(&mut raw, "OR OR SEEN ANSWERED DRAFT").await, [1, 3, 4]);
    assert_eq!(search(&mut raw, "NOT NOT SEEN").await, [1]);
    assert_eq!(search(&mut raw, "((((SUBJECT report))))").await, [1, 4]);
    assert_eq!(search(&mut raw, "UNSEEN NOT DELETED SUBJECT report").await, [4]);
}

#[tokio::test]
async fn utf8_charset_search_matches_rfc2047_subject() {
    let server = common::start().await;
    let mut raw = corpus(&server).await;
    let r = search_literal(&mut raw, "SEARCH CHARSET UTF-8 SUBJECT", "München").await;
    assert_eq!(search_numbers(&r), [3], "{r:?}");
    let r = search_literal(&mut raw, "SEARCH CHARSET UTF-8 SUBJECT", "Grüße aus").await;
    assert_eq!(search_numbers(&r), [3], "{r:?}");
    // The 8-bit body, decoded with its charset.
    let r = search_literal(&mut raw, "SEARCH CHARSET UTF-8 BODY", "Käsekuchen").await;
    assert_eq!(search_numbers(&r), [3], "{r:?}");
    let r = search_literal(&mut raw, "SEARCH CHARSET UTF-8 TEXT", "München").await;
    assert_eq!(search_numbers(&r), [3], "{r:?}");
    // US-ASCII is fine; unknown charsets are NO [BADCHARSET].
    let r = raw.cmd("SEARCH CHARSET US-ASCII SUBJECT lunch").await;
    assert_eq!(search_numbers(&r), [2]);
    let r = raw.cmd("SEARCH CHARSET X-UNKNOWN SUBJECT lunch").await;
    assert!(tagged(&r).starts_with("T NO [BADCHARSET"), "{r:?}");
    // IMAP4rev2: UTF-8 in a quoted string, no CHARSET needed.
    raw.cmd("ENABLE IMAP4rev2").await;
    let r = raw.cmd("SEARCH SUBJECT \"München\"").await;
    let (_, items) = esearch(&r);
    assert_eq!(items.get("ALL").map(String::as_str), Some("3"), "{r:?}");
}

// ----- response forms -----

#[tokio::test]
async fn imap4rev1_gets_search_response() {
    let server = common::start().await;
    let mut raw = corpus(&server).await;
    let r = raw.cmd("SEARCH OR SEEN ANSWERED").await;
    assert_eq!(r[0], "* SEARCH 1 3", "{r:?}");
    assert_ok(&r);
    // No hits: an empty SEARCH response.
    let r = raw.cmd("SEARCH FROM nobody@nowhere").await;
    assert_eq!(r[0].trim_end(), "* SEARCH", "{r:?}");
    assert_ok(&r);

    // The independent parser agrees.
    let mut client = common::client(server.addr).await;
    client.select("INBOX").await.unwrap();
    assert_eq!(client.search("FROM alice").await.unwrap(), HashSet::from([1, 4]));
    assert_eq!(client.uid_search("UNSEEN").await.unwrap(), HashSet::from([2, 3, 4]));
    assert!(client.search("SUBJECT nothing-like-this").await.unwrap().is_empty());
}

#[tokio::test]
async fn imap4rev2_gets_esearch_response() {
    let server = common::start().await;
    let mut raw = corpus(&server).await;
    let r = raw.cmd("ENABLE IMAP4rev2").await;
    assert!(has(&r, "* ENABLED IMAP4rev2"), "{r:?}");
    let r = raw.cmd("SEARCH OR SEEN ANSWERED").await;
    assert_eq!(r[0], "* ESEARCH (TAG \"T\") ALL 1,3", "{r:?}");
    let r = raw.cmd("SEARCH UNSEEN").await;
    let (uid, items) = esearch(&r);
    assert!(!uid);
    assert_eq!(items.get("ALL").map(String::as_str), Some("2:4"), "{r:?}");
    // UID SEARCH says UID.
    let r = raw.cmd("UID SEARCH FROM alice").await;
    let (uid, items) = esearch(&r);
    assert!(uid, "{r:?}");
    assert_eq!(items.get("ALL").map(String::as_str), Some("1,4"), "{r:?}");
    // No hits: ESEARCH without ALL (RFC 9051 §7.3.4).
    let r = raw.cmd("SEARCH FROM nobody@nowhere").await;
    assert_eq!(r[0].trim_end(), "* ESEARCH (TAG \"T\")", "{r:?}");
    let r = raw.cmd("UID SEARCH FROM nobody@nowhere").await;
    assert_eq!(r[0].trim_end(), "* ESEARCH (TAG \"T\") UID", "{r:?}");
}

#[tokio::test]
async fn search_return_min_max_count_all() {
    let server = common::start().await;
    let mut raw = corpus(&server).await;
    // Return options give ESEARCH even to an IMAP4rev1 client (RFC 4731).
    let r = raw.cmd("SEARCH RETURN (MIN MAX COUNT ALL) UNSEEN").await;
    let (uid, items) = esearch(&r);
    assert!(!uid);
    let want: BTreeMap<String, String> =
        [("MIN", "2"), ("MAX", "4"), ("COUNT", "3"), ("ALL", "2:4")].map(|(k, v)| (k.into(), v.into())).into();
    assert_eq!(items, want, "{r:?}");

    let r = raw.cmd("SEARCH RETURN (COUNT) ALL").await;
    let (_, items) = esearch(&r);
    assert_eq!(items.len(), 1, "{r:?}");
    assert_eq!(items["COUNT"], "4");

    let r = raw.cmd("SEARCH RETURN (MIN) OR DRAFT ANSWERED").await;
    let (_, items) = esearch(&r);
    assert_eq!(items.len(), 1, "{r:?}");
    assert_eq!(items["MIN"], "3");

    // RETURN () means ALL.
    let r = raw.cmd("SEARCH RETURN () FROM alice").await;
    let (_, items) = esearch(&r);
    assert_eq!(items.get("ALL").map(String::as_str), Some("1,4"), "{r:?}");

    let r = raw.cmd("UID SEARCH RETURN (MIN MAX) ALL").await;
    let (uid, items) = esearch(&r);
    assert!(uid, "{r:?}");
    assert_eq!((items["MIN"].as_str(), items["MAX"].as_str()), ("1", "4"), "{r:?}");

    // No hits: COUNT 0, no MIN/MAX/ALL.
    let r = raw.cmd("SEARCH RETURN (MIN MAX COUNT ALL) FROM nobody@nowhere").await;
    let (_, items) = esearch(&r);
    let want: BTreeMap<String, String> = [("COUNT".to_string(), "0".to_string())].into();
    assert_eq!(items, want, "{r:?}");
    let r = raw.cmd("SEARCH RETURN (MIN MAX ALL) FROM nobody@nowhere").await;
    assert_eq!(r[0].trim_end(), "* ESEARCH (TAG \"T\")", "{r:?}");
}

#[tokio::test]
async fn searchres_saves_the_result_for_dollar() {
    let server = common::start().await;
    let mut raw = corpus(&server).await;
    // SAVE alone: no ESEARCH response (RFC 5182 §2.1).
    let r = raw.cmd("SEARCH RETURN (SAVE) FROM alice").await;
    assert_ok(&r);
    assert_eq!(r.len(), 1, "{r:?}");
    let r = raw.cmd("FETCH $ (UID)").await;
    assert_ok(&r);
    assert_eq!(&r[..2], ["* 1 FETCH (UID 1)", "* 4 FETCH (UID 4)"], "{r:?}");
    assert_eq!(r.len(), 3, "{r:?}");
    let r = raw.cmd("UID SEARCH UID $").await;
    assert_eq!(search_numbers(&r), [1, 4]);
    // `$` combines with other keys.
    let r = raw.cmd("SEARCH $ SEEN").await;
    assert_eq!(search_numbers(&r), [1]);
    let r = raw.cmd("SEARCH NOT $").await;
    assert_eq!(search_numbers(&r), [2, 3]);

    // SAVE with other options: the result is both returned and saved.
    let r = raw.cmd("UID SEARCH RETURN (SAVE ALL) UNSEEN").await;
    let (uid, items) = esearch(&r);
    assert!(uid);
    assert_eq!(items.get("ALL").map(String::as_str), Some("2:4"), "{r:?}");
    let r = raw.cmd("UID FETCH $ (FLAGS)").await;
    assert_eq!(r.iter().filter(|l| l.contains(" FETCH (")).count(), 3, "{r:?}");

    // SAVE with MIN only saves the minimum (RFC 5182 §2.1).
    let r = raw.cmd("SEARCH RETURN (SAVE MIN) UNSEEN").await;
    let (_, items) = esearch(&r);
    assert_eq!(items.get("MIN").map(String::as_str), Some("2"), "{r:?}");
    let r = raw.cmd("FETCH $ (UID)").await;
    assert_eq!(&r[..r.len() - 1], ["* 2 FETCH (UID 2)"], "{r:?}");

    // `$` follows expunges: saved UIDs, not sequence numbers.
    raw.cmd("SEARCH RETURN (SAVE) UID 3:4").await;
    raw.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)").await;
    raw.cmd("UID EXPUNGE 1").await;
    let r = raw.cmd("FETCH $ (UID)").await;
    assert_eq!(&r[..r.len() - 1], ["* 2 FETCH (UID 3)", "* 3 FETCH (UID 4)"], "{r:?}");

    // An empty saved result matches nothing.
    raw.cmd("SEARCH RETURN (SAVE) FROM nobody@nowhere").await;
    let r = raw.cmd("FETCH $ (UID)").await;
    assert_ok(&r);
    assert_eq!(r.len(), 1, "{r:?}");
    let r = raw.cmd("UID SEARCH UID $").await;
    assert_eq!(search_numbers(&r), Vec::<u32>::new());
}

#[tokio::test]
async fn search_with_uid_and_flags_through_async_imap() {
    let server = common::start().await;
    let _raw = corpus(&server).await;
    let mut client = common::client(server.addr).await;
    client.select("INBOX").await.unwrap();
    assert_eq!(client.search("OR FLAGGED DRAFT").await.unwrap(), HashSet::from([1, 4]));
    assert_eq!(client.search("SINCE 10-Mar-2024").await.unwrap(), HashSet::from([3, 4]));
    assert_eq!(client.uid_search("UID 2:3").await.unwrap(), HashSet::from([2, 3]));
    assert_eq!(client.uid_search("LARGER 2000").await.unwrap(), HashSet::from([3]));
}
