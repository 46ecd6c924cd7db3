//! LMTP (RFC 2033) against a real server: per-recipient replies, pipelining,
//! byte-exact storage, blob dedupe, addresses, limits, IDLE notification.

mod common;

use std::time::{Duration, Instant};

use common::{count_blobs, fetch_raw, Lmtp, Raw};

const SENDER: &str = "sender@example.org";

fn add(server: &common::TestServer, name: &str) {
    server.store.create_account(name, "$argon2id$not-a-login").unwrap();
}

async fn inbox_count(server: &common::TestServer, name: &str) -> usize {
    let id = server.store.account_id(name).unwrap().unwrap();
    let acc = server.store.account(id).unwrap();
    let inbox = acc.mailbox("INBOX").await.unwrap().unwrap();
    acc.summaries(inbox.id).await.unwrap().len()
}

/// The stored copies of an account's INBOX (prefix + meta).
async fn inbox_records(server: &common::TestServer, name: &str) -> Vec<store::MessageRecord> {
    let id = server.store.account_id(name).unwrap().unwrap();
    let acc = server.store.account(id).unwrap();
    let inbox = acc.mailbox("INBOX").await.unwrap().unwrap();
    let uids = acc.summaries(inbox.id).await.unwrap().iter().map(|s| s.uid).collect();
    acc.records(inbox.id, uids).await.unwrap()
}

/// One unknown recipient is refused at RCPT (550 5.1.1); after DATA there is
/// exactly one reply per accepted recipient, in RCPT order (RFC 2033 §4.2).
#[tokio::test]
async fn mixed_recipients_get_exact_replies() {
    let server = common::start().await;
    add(&server, "bob");
    let mut l = Lmtp::connect(server.lmtp_addr).await;
    let lhlo = l.cmd("LHLO mta.example").await;
    for ext in ["PIPELINING", "ENHANCEDSTATUSCODES", "8BITMIME", "SMTPUTF8"] {
        assert!(lhlo.iter().any(|x| x == &format!("250-{ext}")), "{lhlo:?}");
    }
    assert_eq!(lhlo.last().unwrap(), &format!("250 SIZE {}", 64 * 1024 * 1024));
    assert_eq!(l.cmd(&format!("MAIL FROM:<{SENDER}> BODY=8BITMIME SIZE=100")).await, ["250 2.1.0 sender OK"]);
    assert_eq!(l.cmd("RCPT TO:<alice@example.test>").await, ["250 2.1.5 recipient OK"]);
    assert_eq!(l.cmd("RCPT TO:<nobody@example.test>").await, ["550 5.1.1 <nobody@example.test>: no such user"]);
    assert_eq!(l.cmd("RCPT TO:<bob@example.test>").await, ["250 2.1.5 recipient OK"]);
    let replies = l.data(&common::message("mixed", "hello"), 2).await;
    assert_eq!(
        replies,
        ["250 2.0.0 <alice@example.test> delivered (uid 1)", "250 2.0.0 <bob@example.test> delivered (uid 1)"]
    );
    // Nothing more was sent: the next reply is NOOP's.
    assert_eq!(l.cmd("NOOP").await, ["250 2.0.0 OK"]);
    assert_eq!(l.cmd("QUIT").await[0].split(' ').take(2).collect::<Vec<_>>(), ["221", "2.0.0"]);
    assert_eq!(inbox_count(&server, "alice").await, 1);
    assert_eq!(inbox_count(&server, "bob").await, 1);
}

/// LHLO, MAIL, RCPT, RCPT, DATA in one write (RFC 2920); replies in order.
#[tokio::test]
async fn pipelined_transaction() {
    let server = common::start().await;
    add(&server, "bob");
    let mut l = Lmtp::connect(server.lmtp_addr).await;
    l.send(
        format!("LHLO mta\r\nMAIL FROM:<{SENDER}>\r\nRCPT TO:<alice@example.test>\r\nRCPT TO:<ghost@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n")
            .as_bytes(),
    )
    .await;
    assert!(l.reply().await.last().unwrap().starts_with("250 SIZE"));
    assert_eq!(l.reply().await, ["250 2.1.0 sender OK"]);
    assert_eq!(l.reply().await, ["250 2.1.5 recipient OK"]);
    assert_eq!(l.reply().await, ["550 5.1.1 <ghost@example.test>: no such user"]);
    assert_eq!(l.reply().await, ["250 2.1.5 recipient OK"]);
    assert!(l.reply().await[0].starts_with("354 "));
    // The message, the terminator and the next transaction in one write.
    let mut rest = common::dot_stuff(&common::message("piped", "x"));
    rest.extend_from_slice(format!(".\r\nRSET\r\nMAIL FROM:<>\r\nRCPT TO:<bob@example.test>\r\nQUIT\r\n").as_bytes());
    l.send(&rest).await;
    assert!(l.reply().await[0].starts_with("250 2.0.0 <alice@example.test> delivered"));
    assert!(l.reply().await[0].starts_with("250 2.0.0 <bob@example.test> delivered"));
    assert_eq!(l.reply().await, ["250 2.0.0 OK"]);
    assert_eq!(l.reply().await, ["250 2.1.0 sender OK"]);
    assert_eq!(l.reply().await, ["250 2.1.5 recipient OK"]);
    assert!(l.reply().await[0].starts_with("221 "));
}

/// A message as an MTA might send it: 8-bit UTF-8, dot lines, bare LF lines,
/// a 5 MB attachment. What IMAP serves is the trace prefix + the message with
/// CRLF line endings, byte for byte; RFC822.SIZE is its length.
#[tokio::test]
async fn round_trip_is_byte_exact() {
    let server = common::start().await;
    let mut wire = Vec::new();
    wire.extend_from_slice(
        "From: Jörg <joerg@example.org>\r\nTo: alice@example.test\r\nSubject: Grüße aus Köln\r\n\
         Message-ID: <rt@example.org>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            .as_bytes(),
    );
    wire.extend_from_slice("Straße, Ærø, 東京, emoji 🦀\r\n.leading dot\r\n..two dots\r\n.\tdot tab\r\n".as_bytes());
    wire.extend_from_slice(b"bare LF line\nanother bare LF\n\nCR inside \r line\r\n");
    wire.extend_from_slice(
        b"--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n",
    );
    let mut seed = 7u32;
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    while wire.len() < 5 * 1024 * 1024 {
        for _ in 0..76 {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            wire.push(alphabet[(seed >> 16) as usize % 64]);
        }
        wire.extend_from_slice(b"\r\n");
    }
    wire.extend_from_slice(b"--b--\r\n");
    let mut expected = format!("Return-Path: <{SENDER}>\r\nDelivered-To: alice@example.test\r\n").into_bytes();
    expected.extend_from_slice(&postfach::delivery::to_crlf(&wire));

    let mut l = Lmtp::hello(server.lmtp_addr).await;
    let t = Instant::now();
    let r = l.deliver(SENDER, &["alice@example.test"], &wire).await;
    eprintln!("5 MB message delivered in {:?}", t.elapsed());
    assert!(r[0].starts_with("250 2.0.0"), "{r:?}");

    let mut raw = Raw::login(server.addr).await;
    raw.cmd("SELECT INBOX").await;
    let (size, body) = fetch_raw(&mut raw, 1).await;
    assert_eq!(body.len(), expected.len());
    assert!(body == expected, "served bytes differ from what was delivered");
    assert_eq!(size, expected.len() as u64);
    // The stored envelope/structure describe it (computed once, at delivery).
    let rec = &inbox_records(&server, "alice").await[0];
    assert_eq!(rec.meta.message_id, "rt@example.org");
    assert_eq!(rec.meta.subject, "Grüße aus Köln");
    let env = raw.cmd("UID FETCH 1 (ENVELOPE BODYSTRUCTURE)").await;
    assert!(env[0].contains("\"MIXED\"") || env[0].contains("\"mixed\""), "{env:?}");
}

/// Three recipients, one blob file; each copy has its own trace headers.
#[tokio::test]
async fn blob_is_stored_once_for_three_recipients() {
    let server = common::start().await;
    add(&server, "bob");
    add(&server, "carol");
    assert_eq!(count_blobs(server.dir.path()), 0);
    let mut l = Lmtp::hello(server.lmtp_addr).await;
    let r = l.deliver(SENDER, &["alice@a.test", "bob@b.test", "carol@c.test"], &common::message("dedupe", "x")).await;
    assert!(r.iter().all(|x| x.starts_with("250 2.0.0")), "{r:?}");
    assert_eq!(count_blobs(server.dir.path()), 1);
    for (name, domain) in [("alice", "a"), ("bob", "b"), ("carol", "c")] {
        let recs = inbox_records(&server, name).await;
        assert_eq!(recs.len(), 1);
        let want = format!("Return-Path: <{SENDER}>\r\nDelivered-To: {name}@{domain}.test\r\n");
        assert_eq!(String::from_utf8_lossy(&recs[0].prefix), want);
        assert_eq!(recs[0].size, (want.len() + common::message("dedupe", "x").len()) as u64);
    }
}

/// Trace headers can be turned off; the copy is then the message itself.
#[tokio::test]
async fn trace_headers_off() {
    let server = common::start_with(|c| c.delivery.trace_headers = false).await;
    let mut l = Lmtp::hello(server.lmtp_addr).await;
    let msg = common::message("notrace", "x");
    assert!(l.deliver(SENDER, &["alice@example.test"], &msg).await[0].starts_with("250 "));
    let mut raw = Raw::login(server.addr).await;
    raw.cmd("SELECT INBOX").await;
    assert_eq!(fetch_raw(&mut raw, 1).await, (msg.len() as u64, msg));
}

/// Assigned addresses, `+detail`, catch-all, served domains.
#[tokio::test]
async fn addresses_and_domains() {
    let server = common::start().await;
    add(&server, "bob");
    add(&server, "carol");
    let s = &server.store;
    s.add_domain("example.test").unwrap();
    s.add_address("info@other.test", "bob").unwrap();
    s.add_address("@catch.test", "carol").unwrap();
    let mut l = Lmtp::hello(server.lmtp_addr).await;
    assert!(l.cmd(&format!("MAIL FROM:<{SENDER}>")).await[0].starts_with("250"));
    let cases = [
        ("alice+news@example.test", "250"),
        ("ALICE@Example.Test", "250"),
        ("info@other.test", "250"),
        ("info+x@other.test", "250"),
        ("whoever@catch.test", "250"),
        ("alice@unserved.test", "550"),
        ("bob@other.test", "550"),
        ("carol@example.test", "250"),
        ("postmaster", "550"),
    ];
    for (rcpt, code) in cases {
        let r = l.cmd(&format!("RCPT TO:<{rcpt}>")).await;
        assert!(r[0].starts_with(code), "{rcpt}: {r:?}");
    }
    let r = l.data(&common::message("addr", "x"), 6).await;
    assert!(r.iter().all(|x| x.starts_with("250 2.0.0")), "{r:?}");
    assert_eq!(inbox_count(&server, "alice").await, 2);
    assert_eq!(inbox_count(&server, "bob").await, 2);
    assert_eq!(inbox_count(&server, "carol").await, 2);
}

/// Protocol errors, limits, and a session that stays usable after each.
#[tokio::test]
async fn errors_and_limits() {
    let server = common::start_with(|c| c.delivery.max_message_size = 1000).await;
    let mut l = Lmtp::connect(server.lmtp_addr).await;
    assert!(l.cmd("MAIL FROM:<>").await[0].starts_with("503 5.5.1"));
    assert!(l.cmd("EHLO x").await[0].starts_with("500 5.5.1"));
    assert!(l.cmd("HELO x").await[0].starts_with("500 5.5.1"));
    assert_eq!(l.cmd("LHLO x").await.last().unwrap(), "250 SIZE 1000");
    assert!(l.cmd("RCPT TO:<alice@example.test>").await[0].starts_with("503 5.5.1"));
    assert!(l.cmd("DATA").await[0].starts_with("503 5.5.1"));
    assert!(l.cmd("VRFY alice").await[0].starts_with("252 2.5.0"));
    assert!(l.cmd("STARTTLS").await[0].starts_with("502 5.5.1"));
    assert!(l.cmd("FOO").await[0].starts_with("500 5.5.2"));
    assert!(l.cmd(&format!("NOOP {}", "x".repeat(5000))).await[0].starts_with("500 5.5.2"));
    assert!(l.cmd("MAIL FROM:<> SIZE=5000").await[0].starts_with("552 5.3.4"));
    assert!(l.cmd("MAIL FROM:<> BODY=BINARYMIME").await[0].starts_with("555 5.5.4"));
    assert!(l.cmd("MAIL FROM:<> SIZE=x").await[0].starts_with("501 5.5.4"));
    assert!(l.cmd("MAIL FROM:<>").await[0].starts_with("250"));
    assert!(l.cmd("MAIL FROM:<>").await[0].starts_with("503 5.5.1"));
    assert!(l.cmd("DATA").await[0].starts_with("503 5.5.1"), "no valid recipients");
    assert!(l.cmd("RCPT TO:<alice@example.test>").await[0].starts_with("250"));
    assert!(l.cmd("RCPT TO:<alice+x@example.test>").await[0].starts_with("250"));
    // Too big: read to its end, then 552 for each recipient.
    let big = common::message("big", &"y".repeat(2000));
    assert_eq!(l.data(&big, 2).await, vec!["552 5.3.4 message size exceeds fixed maximum message size"; 2]);
    // A message with NUL is refused (IMAP cannot serve it in a literal).
    assert!(l.cmd("MAIL FROM:<>").await[0].starts_with("250"));
    assert!(l.cmd("RCPT TO:<alice@example.test>").await[0].starts_with("250"));
    assert!(l.data(b"Subject: nul\r\n\r\na\0b\r\n", 1).await[0].starts_with("554 5.6.0"));
    // Still in step: a normal message goes through.
    assert!(l.deliver("", &["alice@example.test"], &common::message("small", "ok")).await[0].starts_with("250 2.0.0"));
    assert_eq!(inbox_count(&server, "alice").await, 1);
    assert_eq!(
        inbox_records(&server, "alice").await[0].prefix,
        b"Return-Path: <>\r\nDelivered-To: alice@example.test\r\n"
    );
}

/// A store failure gives 451 for the recipients it hit, never a false 250.
#[tokio::test]
async fn store_failure_is_temporary() {
    let server = common::start().await;
    add(&server, "dave");
    let mut l = Lmtp::hello(server.lmtp_addr).await;
    assert!(l.cmd("MAIL FROM:<>").await[0].starts_with("250"));
    assert!(l.cmd("RCPT TO:<alice@example.test>").await[0].starts_with("250"));
    assert!(l.cmd("RCPT TO:<dave@example.test>").await[0].starts_with("250"));
    // dave's account disappears between RCPT and DATA.
    server.store.delete_account("dave").unwrap();
    let r = l.data(&common::message("gone", "x"), 2).await;
    assert!(r[0].starts_with("250 2.0.0 <alice@example.test>"), "{r:?}");
    assert!(r[1].starts_with("451 4.3.0 <dave@example.test>"), "{r:?}");
    // The blob directory cannot take new files: every recipient gets 451.
    let tmp = server.dir.path().join("blobs").join("tmp");
    std::fs::remove_dir_all(&tmp).unwrap();
    std::fs::write(&tmp, b"not a directory").unwrap();
    let r = l.deliver("", &["alice@example.test", "alice+2@example.test"], &common::message("nodisk", "x")).await;
    assert!(r.iter().all(|x| x.starts_with("451 4.3.0")), "{r:?}");
    assert_eq!(inbox_count(&server, "alice").await, 1);
}

/// An IDLE client sees an LMTP delivery within a second.
#[tokio::test]
async fn idle_client_sees_delivery() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    raw.cmd("SELECT INBOX").await;
    raw.send(b"I IDLE\r\n").await;
    assert!(raw.line().await.starts_with("+ "));
    let mut l = Lmtp::hello(server.lmtp_addr).await;
    let r = l.deliver(SENDER, &["alice@example.test"], &common::message("idle", "x")).await;
    assert!(r[0].starts_with("250 "));
    let t = Instant::now();
    let line = raw.maybe_line(Duration::from_secs(1)).await;
    assert_eq!(line.as_deref(), Some("* 1 EXISTS"), "after {:?}", t.elapsed());
    raw.send(b"DONE\r\n").await;
    assert!(raw.until_tagged("I").await.last().unwrap().starts_with("I OK"));
}

/// Four concurrent senders; deliveries share commits (group commit).
/// Prints the rate measured.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_senders_share_commits() {
    let server = common::start().await;
    // Held open for the whole test, so its commit counter covers every delivery.
    let id = server.store.account_id("alice").unwrap().unwrap();
    let acc = server.store.account(id).unwrap();
    let per_sender = 50;
    let t = Instant::now();
    let mut tasks = Vec::new();
    for s in 0..4 {
        let addr = server.lmtp_addr;
        tasks.push(tokio::spawn(async move {
            let mut l = Lmtp::hello(addr).await;
            for i in 0..per_sender {
                let r = l.deliver(SENDER, &["alice@example.test"], &common::message(&format!("c{s}-{i}"), "x")).await;
                assert!(r[0].starts_with("250 2.0.0"), "{r:?}");
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = t.elapsed();
    let commits = acc.commit_count();
    eprintln!(
        "4 senders × {per_sender}: {:.0} msgs/s durable, {} commits for {} messages",
        200.0 / elapsed.as_secs_f64(),
        commits,
        4 * per_sender
    );
    assert_eq!(inbox_count(&server, "alice").await, 4 * per_sender);
    assert!(commits <= 4 * per_sender as u64);
}

/// The Unix socket listener (Postfix `lmtp:unix:`) serves the same protocol.
#[tokio::test]
async fn unix_socket_listener() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let sock_dir = tempfile::tempdir().unwrap();
    let path = sock_dir.path().join("lmtp.sock");
    let p = path.clone();
    let server = common::start_with(move |c| c.listen.lmtp_socket = Some(p)).await;
    let mut s = tokio::net::UnixStream::connect(&path).await.unwrap();
    let mut msg = common::dot_stuff(&common::message("unix", "via the socket"));
    msg.extend_from_slice(b".\r\nQUIT\r\n");
    s.write_all(b"LHLO mta\r\nMAIL FROM:<>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n").await.unwrap();
    s.write_all(&msg).await.unwrap();
    let mut out = String::new();
    tokio::time::timeout(common::TIMEOUT, s.read_to_string(&mut out)).await.unwrap().unwrap();
    let codes: Vec<&str> = out.lines().map(|l| &l[..3]).collect();
    assert_eq!(codes, ["220", "250", "250", "250", "250", "250", "250", "250", "250", "354", "250", "221"], "{out}");
    assert_eq!(inbox_count(&server, "alice").await, 1);
}
