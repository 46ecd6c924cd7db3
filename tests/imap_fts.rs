//! SEARCH with the full-text index (issue #7): on a seeded random corpus
//! (non-ASCII, RFC 2047 words in several charsets, QP/base64 bodies,
//! ISO-8859-1, multipart/alternative with HTML, text and binary
//! attachments; stored by APPEND and by LMTP with trace headers), every
//! string key answers exactly what a scan of every message answers: a second
//! server on the same store with `[search] fts = false` is the scan.
//! For plain word needles the answer is also checked against the decoded
//! text the test itself put into each message.

mod common;

use std::collections::BTreeSet;
use std::net::SocketAddr;

use base64::Engine as _;
use common::{Lmtp, Raw, TestServer};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

const WORDS: &[&str] = &[
    "zeppelin",
    "harbour",
    "quarterly",
    "invoice",
    "meeting",
    "banana",
    "kettle",
    "orbit",
    "lantern",
    "marble",
    "thunder",
    "pepper",
    "violet",
    "anchor",
    "meadow",
    "cobalt",
    "saffron",
    "glacier",
    "tundra",
    "walnut",
];
/// Words with characters outside ASCII but inside ISO-8859-1.
const LATIN1: &[&str] = &["münchen", "straße", "café", "crème", "façade", "smörgåsbord", "señor", "øresund"];
/// Words outside ISO-8859-1.
const WIDE: &[&str] = &["привет", "ελλάδα", "日本語", "zażółć", "čeština", "مرحبا"];

/// One generated message and the decoded text the test knows it contains.
struct Gen {
    bytes: Vec<u8>,
    /// Decoded subject, lower-cased.
    subject: String,
    /// Lower-cased words of every text part (plain, HTML, text attachments).
    body_words: Vec<String>,
    /// Words of the binary attachment (never BODY matches).
    binary_words: Vec<String>,
}

fn pick<'a>(rng: &mut StdRng, pools: &[&[&'a str]]) -> &'a str {
    let pool = pools[rng.gen_range(0..pools.len())];
    pool[rng.gen_range(0..pool.len())]
}

fn words(rng: &mut StdRng, n: std::ops::Range<usize>, pools: &[&[&'static str]]) -> Vec<&'static str> {
    let n = rng.gen_range(n);
    (0..n).map(|_| pick(rng, pools)).collect()
}

/// Title-cases some words, so that case-insensitivity is exercised.
fn vary_case(rng: &mut StdRng, w: &str) -> String {
    match rng.gen_range(0..4) {
        0 => w.to_uppercase(),
        1 => {
            let mut c = w.chars();
            c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
        }
        _ => w.to_string(),
    }
}

fn b64(s: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// Quoted-printable for bodies (every non-ASCII byte and `=` encoded; soft
/// breaks keep lines short).
fn qp(bytes: &[u8]) -> String {
    let mut out = String::new();
    let mut col = 0;
    for &b in bytes {
        let piece = if b == b'\n' {
            col = 0;
            out.push_str("\r\n");
            continue;
        } else if b == b'\r' {
            continue;
        } else if b == b'=' || b >= 0x80 {
            format!("={b:02X}")
        } else {
            (b as char).to_string()
        };
        if col + piece.len() > 70 {
            out.push_str("=\r\n");
            col = 0;
        }
        col += piece.len();
        out.push_str(&piece);
    }
    out
}

fn latin1(s: &str) -> Vec<u8> {
    s.chars().map(|c| u8::try_from(u32::from(c)).expect("latin-1 text")).collect()
}

/// An RFC 2047 encoded word (or plain text) for a header value.
fn header_text(rng: &mut StdRng, text: &str) -> String {
    let is_latin1 = text.chars().all(|c| u32::from(c) < 256);
    match rng.gen_range(0..4) {
        0 if text.is_ascii() => text.to_string(),
        1 => format!("=?UTF-8?B?{}?=", b64(text.as_bytes())),
        2 if is_latin1 => {
            let q: String = latin1(text)
                .iter()
                .map(|&b| match b {
                    b' ' => "_".to_string(),
                    b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => (b as char).to_string(),
                    _ => format!("={b:02X}"),
                })
                .collect();
            format!("=?ISO-8859-1?Q?{q}?=")
        }
        _ => {
            let q: String = text
                .bytes()
                .map(|b| match b {
                    b' ' => "_".to_string(),
                    b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => (b as char).to_string(),
                    _ => format!("={b:02X}"),
                })
                .collect();
            format!("=?utf-8?q?{q}?=")
        }
    }
}

fn person(rng: &mut StdRng, i: usize) -> (String, String) {
    let (first, last) = (pick(rng, &[WORDS, LATIN1, WIDE]), pick(rng, &[WORDS]));
    let name = format!("{} {}", vary_case(rng, first), vary_case(rng, last));
    let addr = format!("{}{}@{}.example", pick(rng, &[WORDS]), i % 7, pick(rng, &[WORDS]));
    (name, addr)
}

fn address(rng: &mut StdRng, i: usize) -> String {
    let (name, addr) = person(rng, i);
    if rng.gen_bool(0.2) {
        addr
    } else {
        format!("{} <{addr}>", header_text(rng, &name))
    }
}

/// A text/* leaf with a random charset and transfer encoding.
fn text_part(rng: &mut StdRng, subtype: &str, text: &str, extra: &str) -> String {
    let is_latin1 = text.chars().all(|c| u32::from(c) < 256);
    let (charset, bytes) =
        if is_latin1 && rng.gen_bool(0.4) { ("iso-8859-1", latin1(text)) } else { ("utf-8", text.as_bytes().to_vec()) };
    let (cte, body) = match rng.gen_range(0..3) {
        0 => ("quoted-printable", qp(&bytes)),
        1 => ("base64", b64(&bytes)),
        _ if charset == "utf-8" => ("8bit", text.replace('\n', "\r\n")),
        _ => ("quoted-printable", qp(&bytes)),
    };
    format!(
        "Content-Type: text/{subtype}; charset={charset}\r\nContent-Transfer-Encoding: {cte}\r\n{extra}\r\n{body}\r\n"
    )
}

fn generate(rng: &mut StdRng, i: usize) -> Gen {
    let subject_words = words(rng, 1..5, &[WORDS, WORDS, LATIN1, WIDE]);
    let subject: Vec<String> = subject_words.iter().map(|w| vary_case(rng, w)).collect();
    let subject = subject.join(" ");
    let mut h = String::new();
    h.push_str(&format!("From: {}\r\n", address(rng, i)));
    let to: Vec<String> = (0..rng.gen_range(1..3)).map(|k| address(rng, i + k)).collect();
    h.push_str(&format!("To: {}\r\n", to.join(", ")));
    if rng.gen_bool(0.5) {
        let cc: Vec<String> = (0..rng.gen_range(1..3)).map(|k| address(rng, i + 3 + k)).collect();
        h.push_str(&format!("Cc: {}\r\n", cc.join(",\r\n ")));
    }
    if rng.gen_bool(0.3) {
        h.push_str(&format!("Bcc: {}\r\n", address(rng, i + 5)));
    }
    h.push_str(&format!("Subject: {}\r\n", header_text(rng, &subject)));
    h.push_str(&format!("Date: Mon, {} Feb 2024 12:00:00 +0100\r\n", 1 + i % 28));
    h.push_str(&format!("Message-ID: <{i}.{}@fts.example>\r\n", rng.gen::<u32>()));
    let tag = words(rng, 2..3, &[WORDS, LATIN1]).join(" ");
    h.push_str(&format!("X-Tag: {}\r\n", header_text(rng, &tag)));
    h.push_str("MIME-Version: 1.0\r\n");

    let body: Vec<&str> = words(rng, 3..30, &[WORDS, WORDS, WORDS, LATIN1, WIDE]);
    let body_cased: Vec<String> = body.iter().map(|w| vary_case(rng, w)).collect();
    // What the message says after decoding (upper-casing may change a word:
    // ß becomes SS, so "STRASSE" is not "straße").
    let mut body_words: Vec<String> = body_cased.iter().map(|w| w.to_lowercase()).collect();
    let mut binary_words = Vec::new();
    let plain = body_cased.join(" ");
    let msg = match rng.gen_range(0..4) {
        0 => format!("{h}{}", text_part(rng, "plain", &plain, "")),
        1 => {
            let html_words: Vec<String> = body_cased
                .iter()
                .enumerate()
                .map(|(k, w)| if k % 3 == 0 { format!("<b>{w}</b>") } else { w.clone() })
                .collect();
            let html = format!("<html><body><p>{}</p></body></html>", html_words.join(" "));
            format!(
                "{h}Content-Type: multipart/alternative; boundary=\"alt{i}\"\r\n\r\n--alt{i}\r\n{}--alt{i}\r\n{}--alt{i}--\r\n",
                text_part(rng, "plain", &plain, ""),
                text_part(rng, "html", &html, ""),
            )
        }
        _ => {
            let note: Vec<&str> = words(rng, 2..6, &[WORDS, LATIN1]);
            body_words.extend(note.iter().map(|w| w.to_string()));
            let secret: Vec<&str> = words(rng, 3..4, &[WORDS]);
            binary_words.extend(secret.iter().map(|w| w.to_string()));
            format!(
                "{h}Content-Type: multipart/mixed; boundary=\"mix{i}\"\r\n\r\n--mix{i}\r\n{}--mix{i}\r\n{}--mix{i}\r\n\
                 Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\
                 Content-Disposition: attachment; filename=\"data.bin\"\r\n\r\n{}\r\n--mix{i}--\r\n",
                text_part(rng, "plain", &plain, ""),
                text_part(rng, "plain", &note.join(" "), "Content-Disposition: attachment; filename=\"note.txt\"\r\n"),
                b64(secret.join(" ").as_bytes()),
            )
        }
    };
    Gen {
        bytes: msg.into_bytes(),
        subject: subject.to_lowercase(),
        body_words: body_words.iter().map(|w| w.to_lowercase()).collect(),
        binary_words,
    }
}

/// A second server on the same store: with `fts = false`, SEARCH there
/// reads every message (the naive scan).
async fn second_server(s: &TestServer, fts: bool) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let mut config = common::imap_only_config();
    config.search.fts = fts;
    let (tls, _) = postfach::tls::load_or_generate(&config.tls, s.dir.path()).expect("tls");
    let server = postfach::imap::Server::bind(config, s.store.clone(), tls).await.expect("bind");
    let addr = server.imap_addr().expect("imap addr");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.run(async move {
        let _ = rx.await;
    }));
    (addr, tx)
}

/// `UID SEARCH` as a set of UIDs (the search program is sent as a literal
/// where it holds non-ASCII text).
async fn search(raw: &mut Raw, program: &str) -> BTreeSet<u32> {
    let lines = raw.cmd(&format!("UID SEARCH CHARSET UTF-8 {program}")).await;
    assert!(lines.last().unwrap().starts_with("T OK"), "{program}: {lines:?}");
    lines
        .iter()
        .filter_map(|l| l.strip_prefix("* SEARCH"))
        .flat_map(|l| l.split_whitespace().map(|n| n.parse::<u32>().unwrap()).collect::<Vec<_>>())
        .collect()
}

/// An IMAP quoted string, or a literal when the text is not plain ASCII.
fn astring(s: &str) -> String {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\') {
        format!("\"{s}\"")
    } else {
        format!("{{{}+}}\r\n{s}", s.len())
    }
}

/// Random needles from the corpus: whole words, pieces of words, pieces
/// across word boundaries, short pieces, upper-cased pieces, absent text.
fn needles(rng: &mut StdRng, corpus: &[Gen], n: usize) -> Vec<String> {
    let mut out = Vec::new();
    while out.len() < n {
        let g = &corpus[rng.gen_range(0..corpus.len())];
        let text = format!("{} {}", g.subject, g.body_words.join(" "));
        let chars: Vec<char> = text.chars().collect();
        let needle: String = match rng.gen_range(0..6) {
            0 => g.body_words.choose(rng).cloned().unwrap_or_default(),
            1 | 2 => {
                let len = rng.gen_range(3..9).min(chars.len());
                let at = rng.gen_range(0..=chars.len() - len);
                chars[at..at + len].iter().collect()
            }
            3 => {
                let len = rng.gen_range(1..3).min(chars.len());
                let at = rng.gen_range(0..=chars.len() - len);
                chars[at..at + len].iter().collect()
            }
            4 => pick(rng, &[WORDS, LATIN1, WIDE]).to_uppercase(),
            _ => ["nowhere-at-all", "qqq", "zeppelinx", "@fts", ".example", "<b>", "data.bin"]
                .choose(rng)
                .unwrap()
                .to_string(),
        };
        if !needle.trim().is_empty() {
            out.push(needle);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_text_key_matches_the_scan_on_a_random_corpus() {
    let s = common::start().await;
    let (scan_addr, _scan) = second_server(&s, false).await;
    let mut rng = StdRng::seed_from_u64(7);
    let corpus: Vec<Gen> = (0..320).map(|i| generate(&mut rng, i)).collect();

    // Three in four by APPEND, the rest by LMTP (with trace headers).
    let mut raw = Raw::login(s.addr).await;
    let mut lmtp = Lmtp::hello(s.lmtp_addr).await;
    let mut uid_of = Vec::new();
    let mut next_uid = 1;
    for (i, g) in corpus.iter().enumerate() {
        if i % 4 == 3 {
            let r = lmtp.deliver("sender@origin.example", &["alice@example.test"], &g.bytes).await;
            assert!(r[0].starts_with("250"), "{r:?}");
            uid_of.push(next_uid);
            next_uid += 1;
        } else {
            let uid = common::append(&mut raw, "INBOX", &g.bytes).await;
            assert_eq!(uid, next_uid);
            uid_of.push(uid);
            next_uid += 1;
        }
    }
    let account = s.store.account(s.store.account_id(common::USER).unwrap().unwrap()).unwrap();
    assert_eq!(account.unindexed_count().await.unwrap(), 0, "every stored message is indexed");

    raw.cmd("SELECT INBOX").await;
    let mut scan = Raw::login(scan_addr).await;
    scan.cmd("SELECT INBOX").await;

    let keys =
        ["BODY", "TEXT", "SUBJECT", "FROM", "TO", "CC", "BCC", "HEADER X-Tag", "HEADER Subject", "HEADER Delivered-To"];
    let mut nonempty = 0;
    let mut compared = 0;
    for needle in &needles(&mut rng, &corpus, 60) {
        for key in keys {
            let program = format!("{key} {}", astring(needle));
            let indexed = search(&mut raw, &program).await;
            let scanned = search(&mut scan, &program).await;
            assert_eq!(indexed, scanned, "{program}");
            compared += 1;
            nonempty += usize::from(!indexed.is_empty());
        }
        // Combinations: AND with a flag key, and text keys under NOT/OR (not narrowed).
        for program in [
            format!("UNDELETED BODY {}", astring(needle)),
            format!("NOT TEXT {}", astring(needle)),
            format!("OR SUBJECT {} FROM {}", astring(needle), astring(needle)),
            format!("TEXT {} BODY {}", astring(needle), astring(needle)),
        ] {
            assert_eq!(search(&mut raw, &program).await, search(&mut scan, &program).await, "{program}");
        }
    }
    assert!(nonempty * 3 > compared, "too few needles matched anything: {nonempty} of {compared}");

    // Plain words against what the test put into each message.
    for w in WORDS.iter().chain(LATIN1).chain(WIDE) {
        let body: BTreeSet<u32> = corpus
            .iter()
            .zip(&uid_of)
            .filter(|(g, _)| g.body_words.iter().any(|b| b.contains(w)))
            .map(|(_, u)| *u)
            .collect();
        assert_eq!(search(&mut raw, &format!("BODY {}", astring(w))).await, body, "BODY {w}");
        let subject: BTreeSet<u32> =
            corpus.iter().zip(&uid_of).filter(|(g, _)| g.subject.contains(w)).map(|(_, u)| *u).collect();
        assert_eq!(search(&mut raw, &format!("SUBJECT {}", astring(w))).await, subject, "SUBJECT {w}");
    }
    // Words only in a binary attachment are not BODY text.
    for (g, uid) in corpus.iter().zip(&uid_of) {
        for w in &g.binary_words {
            if !corpus.iter().any(|o| o.body_words.contains(w)) {
                assert!(!search(&mut raw, &format!("BODY {w}")).await.contains(uid));
            }
        }
    }
}

/// SORT and THREAD go through the same narrowing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sort_and_thread_use_the_index() {
    let s = common::start().await;
    let mut raw = Raw::login(s.addr).await;
    for (subject, body) in [("b zeppelin", "flies high"), ("a boat", "zeppelin below"), ("c car", "drives")] {
        common::append(&mut raw, "INBOX", &common::message(subject, body)).await;
    }
    raw.cmd("SELECT INBOX").await;
    let r = raw.cmd("UID SORT (SUBJECT) UTF-8 TEXT zeppelin").await;
    assert!(r.iter().any(|l| l == "* SORT 2 1"), "{r:?}");
    let r = raw.cmd("UID THREAD ORDEREDSUBJECT UTF-8 BODY zeppelin").await;
    assert!(r.iter().any(|l| l == "* THREAD (2)"), "{r:?}");
}

/// After EXPUNGE the message is gone from the index's answers; COPY and MOVE
/// take the indexed text along without the message being parsed again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn index_follows_expunge_copy_and_move() {
    let s = common::start().await;
    let mut raw = Raw::login(s.addr).await;
    for (subject, body) in [("one", "zeppelin here"), ("two", "nothing"), ("three", "another zeppelin")] {
        common::append(&mut raw, "INBOX", &common::message(subject, body)).await;
    }
    let account = s.store.account(s.store.account_id(common::USER).unwrap().unwrap()).unwrap();
    let inbox = account.mailbox("INBOX").await.unwrap().unwrap().id;
    let archive = account.mailbox("Archive").await.unwrap().unwrap().id;
    let terms = || vec![store::TextTerm { fields: vec![store::TextField::Body], needle: "zeppelin".into() }];
    // New documents are candidates until the writer folds them in.
    assert_eq!(account.text_candidates(inbox, terms()).await.unwrap(), Some(vec![1, 2, 3]));
    account.fold_text_index().await.unwrap();
    assert_eq!(account.text_candidates(inbox, terms()).await.unwrap(), Some(vec![1, 3]));

    raw.cmd("SELECT INBOX").await;
    let r = raw.cmd("UID COPY 1 Archive").await;
    assert!(r.last().unwrap().starts_with("T OK"), "{r:?}");
    let r = raw.cmd("UID MOVE 3 Archive").await;
    assert!(r.last().unwrap().starts_with("T OK"), "{r:?}");
    assert_eq!(account.text_candidates(archive, terms()).await.unwrap(), Some(vec![1, 2]));
    assert_eq!(account.text_candidates(inbox, terms()).await.unwrap(), Some(vec![1]));
    raw.cmd("UID STORE 1 +FLAGS (\\Deleted)").await;
    raw.cmd("EXPUNGE").await;
    assert_eq!(account.text_candidates(inbox, terms()).await.unwrap(), Some(vec![]));
    assert_eq!(search(&mut raw, "BODY zeppelin").await, BTreeSet::new());
    raw.cmd("SELECT Archive").await;
    assert_eq!(search(&mut raw, "BODY zeppelin").await, BTreeSet::from([1, 2]));
    assert_eq!(account.unindexed_count().await.unwrap(), 0);
}

/// `postfach index rebuild --user NAME` (the real binary, beside the running
/// server) restores a cleared index; while it is empty, SEARCH still answers
/// exactly (unindexed messages are read).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rebuild_restores_a_cleared_index() {
    let s = common::start().await;
    let mut raw = Raw::login(s.addr).await;
    for (subject, body) in [("Grüße", "aus München"), ("two", "zeppelin"), ("three", "Zeppelin again")] {
        common::append(&mut raw, "INBOX", &common::message(subject, body)).await;
    }
    let account = s.store.account(s.store.account_id(common::USER).unwrap().unwrap()).unwrap();
    let inbox = account.mailbox("INBOX").await.unwrap().unwrap().id;
    let terms = || vec![store::TextTerm { fields: vec![store::TextField::Body], needle: "zeppelin".into() }];
    raw.cmd("SELECT INBOX").await;
    account.clear_text_index().await.unwrap();
    assert_eq!(account.unindexed_count().await.unwrap(), 3);
    assert_eq!(search(&mut raw, "BODY zeppelin").await, BTreeSet::from([2, 3]));
    assert_eq!(search(&mut raw, &format!("SUBJECT {}", astring("GRÜSSE"))).await, BTreeSet::new());
    assert_eq!(search(&mut raw, &format!("SUBJECT {}", astring("GRÜ"))).await, BTreeSet::from([1]));

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_postfach"))
        .arg("--data")
        .arg(s.dir.path())
        .args(["index", "rebuild", "--user", common::USER])
        .env("RUST_LOG", "warn")
        .output()
        .expect("run postfach");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("indexed 3 messages"), "{out:?}");
    assert_eq!(account.unindexed_count().await.unwrap(), 0);
    assert_eq!(account.text_candidates(inbox, terms()).await.unwrap(), Some(vec![2, 3]));
    assert_eq!(search(&mut raw, "BODY zeppelin").await, BTreeSet::from([2, 3]));
    assert_eq!(search(&mut raw, &format!("BODY {}", astring("MÜNCH"))).await, BTreeSet::from([1]));

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_postfach"))
        .arg("--data")
        .arg(s.dir.path())
        .args(["index", "rebuild", "--user", "nobody"])
        .output()
        .expect("run postfach");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no account nobody"));
}

/// Text after a NUL, between control characters or after bytes that are not
/// UTF-8 is found through the index (trigrams with such characters are left
/// out of it, the others are not; the `trigram` tokenizer used before stopped
/// at the first NUL).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_after_nul_and_undecodable_bytes_is_found() {
    let s = common::start().await;
    let mut raw = Raw::login(s.addr).await;
    let body = b64(b"head\0 zeppelin \x01\xff\xfe walnut\x02\xc3( end of \x7f text");
    let garbled = format!(
        "Subject: garbled\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{body}\r\n"
    );
    common::append(&mut raw, "INBOX", garbled.as_bytes()).await;
    common::append(&mut raw, "INBOX", &common::message("plain", "nothing to see")).await;
    let account = s.store.account(s.store.account_id(common::USER).unwrap().unwrap()).unwrap();
    let inbox = account.mailbox("INBOX").await.unwrap().unwrap().id;
    account.fold_text_index().await.unwrap();
    let body = |n: &str| vec![store::TextTerm { fields: vec![store::TextField::Body], needle: n.into() }];
    raw.cmd("SELECT INBOX").await;
    for needle in ["head", "zeppelin", "walnut", "end of", "text"] {
        assert_eq!(account.text_candidates(inbox, body(needle)).await.unwrap(), Some(vec![1]), "{needle}");
        assert_eq!(search(&mut raw, &format!("BODY {}", astring(needle))).await, BTreeSet::from([1]), "{needle}");
    }
    assert_eq!(search(&mut raw, "BODY \"see\"").await, BTreeSet::from([2]));
}
