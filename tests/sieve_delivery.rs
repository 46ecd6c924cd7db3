//! Sieve at delivery: LMTP in → scripts → the right folder with the right
//! flags; discard, reject, redirect and vacation (through a test SMTP sink on
//! loopback), runtime errors, global before script.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use common::{Lmtp, Sieve};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

const RCPT: &str = "alice@example.org";

/// One message the sink received.
#[derive(Debug, Clone)]
struct Sent {
    from: String,
    to: Vec<String>,
    data: String,
}

/// A tiny SMTP server on 127.0.0.1:0 that records every message before it
/// answers 250 to the end of DATA (so a delivery's LMTP reply implies the
/// record is there).
async fn smtp_sink() -> (SocketAddr, Arc<Mutex<Vec<Sent>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let got = Arc::new(Mutex::new(Vec::new()));
    let sink = got.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let sink = sink.clone();
            tokio::spawn(async move {
                let mut io = BufReader::new(tcp);
                let _ = io.get_mut().write_all(b"220 sink ESMTP\r\n").await;
                let mut cur = Sent { from: String::new(), to: Vec::new(), data: String::new() };
                loop {
                    let mut line = String::new();
                    if io.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") {
                        b"250-sink\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("MAIL FROM:") {
                        cur.from = line[10..].trim().trim_matches(|c| c == '<' || c == '>').to_string();
                        b"250 ok\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        cur.to.push(line[8..].trim().trim_matches(|c| c == '<' || c == '>').to_string());
                        b"250 ok\r\n"
                    } else if upper.starts_with("DATA") {
                        let _ = io.get_mut().write_all(b"354 go\r\n").await;
                        loop {
                            let mut l = String::new();
                            if io.read_line(&mut l).await.unwrap_or(0) == 0 {
                                return;
                            }
                            if l == ".\r\n" {
                                break;
                            }
                            cur.data.push_str(&l);
                        }
                        sink.lock().unwrap().push(std::mem::replace(
                            &mut cur,
                            Sent { from: String::new(), to: Vec::new(), data: String::new() },
                        ));
                        b"250 queued\r\n"
                    } else if upper.starts_with("QUIT") {
                        let _ = io.get_mut().write_all(b"221 bye\r\n").await;
                        return;
                    } else {
                        b"250 ok\r\n"
                    };
                    let _ = io.get_mut().write_all(reply).await;
                }
            });
        }
    });
    (addr, got)
}

async fn account(server: &common::TestServer, name: &str) -> Arc<store::Account> {
    let id = server.store.account_id(name).unwrap().unwrap();
    server.store.account(id).unwrap()
}

/// Stores `script` as alice's active script.
async fn activate(server: &common::TestServer, script: &str) {
    let acc = account(server, common::USER).await;
    acc.put_sieve_script("main", script).await.unwrap();
    acc.set_sieve_active(Some("main")).await.unwrap();
}

/// Flags of every message in `mailbox` (None: no such mailbox).
async fn messages(server: &common::TestServer, name: &str, mailbox: &str) -> Option<Vec<store::Flags>> {
    let acc = account(server, name).await;
    let mb = acc.mailbox(mailbox).await.unwrap()?;
    Some(acc.summaries(mb.id).await.unwrap().into_iter().map(|s| s.flags).collect())
}

fn msg(subject: &str, extra_headers: &str) -> Vec<u8> {
    format!(
        "From: Bob <bob@example.net>\r\nTo: Alice <{RCPT}>\r\nSubject: {subject}\r\n{extra_headers}\
         Message-ID: <{}@example.net>\r\n\r\nbody of {subject}\r\n",
        subject.replace(' ', ".")
    )
    .into_bytes()
}

async fn lmtp(server: &common::TestServer, from: &str, to: &[&str], m: &[u8]) -> Vec<String> {
    let mut l = Lmtp::hello(server.lmtp_addr).await;
    l.deliver(from, to, m).await
}

#[tokio::test]
async fn fileinto_with_imap4flags() {
    let server = common::start().await;
    account(&server, common::USER).await.create_mailbox("Lists", None).await.unwrap();
    activate(
        &server,
        r#"require ["fileinto", "imap4flags"];
if header :contains "subject" "[list]" { fileinto :flags "\\Seen $Label1" "Lists"; stop; }
addflag "\\Flagged";"#,
    )
    .await;
    let r = lmtp(&server, "bob@example.net", &[RCPT], &msg("[list] hello", "")).await;
    assert!(r[0].starts_with("250 2.0.0"), "{r:?}");
    lmtp(&server, "bob@example.net", &[RCPT], &msg("personal", "")).await;
    let lists = messages(&server, "alice", "Lists").await.unwrap();
    assert_eq!(lists.len(), 1);
    assert_eq!(lists[0].system, store::Flags::SEEN);
    assert_eq!(lists[0].keywords, ["$Label1"]);
    let inbox = messages(&server, "alice", "INBOX").await.unwrap();
    assert_eq!(inbox.len(), 1, "only the personal message");
    assert_eq!(inbox[0].system, store::Flags::FLAGGED, "implicit keep takes the imap4flags flags");
}

#[tokio::test]
async fn fileinto_create_and_missing_mailbox() {
    let server = common::start().await;
    activate(
        &server,
        r#"require ["fileinto", "mailbox", "envelope", "subaddress"];
if envelope :detail "to" "shop" { fileinto :create "Shopping/2024"; }
elsif header :contains "subject" "missing" { fileinto "Nowhere"; }"#,
    )
    .await;
    lmtp(&server, "bob@example.net", &["alice+shop@example.org"], &msg("order", "")).await;
    assert_eq!(messages(&server, "alice", "Shopping/2024").await.map(|v| v.len()), Some(1), ":create made it");
    lmtp(&server, "bob@example.net", &[RCPT], &msg("missing box", "")).await;
    assert_eq!(messages(&server, "alice", "Nowhere").await, None, "not created without :create");
    assert_eq!(messages(&server, "alice", "INBOX").await.unwrap().len(), 1, "fell back to INBOX");
}

#[tokio::test]
async fn discard_and_reject_per_recipient() {
    let server = common::start().await;
    server.store.create_account("bob", "$argon2id$x").unwrap();
    activate(
        &server,
        r#"require ["reject"];
if header :contains "subject" "spam" { discard; } elsif header :contains "subject" "go away" { reject "Not wanted here."; }"#,
    )
    .await;
    let r = lmtp(&server, "x@example.net", &[RCPT], &msg("spam offer", "")).await;
    assert_eq!(r, ["250 2.0.0 <alice@example.org> accepted; no copy kept by filter"]);
    assert!(messages(&server, "alice", "INBOX").await.unwrap().is_empty());
    let r = lmtp(&server, "x@example.net", &[RCPT, "bob@example.org"], &msg("go away", "")).await;
    assert_eq!(r[0], "550 5.7.1 <alice@example.org> Not wanted here.");
    assert!(r[1].starts_with("250 2.0.0 <bob@example.org> delivered"), "{r:?}");
    assert!(messages(&server, "alice", "INBOX").await.unwrap().is_empty());
    assert_eq!(messages(&server, "bob", "INBOX").await.unwrap().len(), 1);
}

#[tokio::test]
async fn redirect_through_the_relay() {
    let (relay, sent) = smtp_sink().await;
    let server = common::start_with(|c| c.submission.relay = Some(relay)).await;
    activate(&server, r#"require "copy"; redirect :copy "carol@example.com"; redirect "dave@example.com";"#).await;
    let r = lmtp(&server, "bob@example.net", &[RCPT], &msg("fwd", "")).await;
    assert!(r[0].starts_with("250 2.0.0"), "{r:?}");
    let sent = sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[0].to, ["carol@example.com"]);
    assert_eq!(sent[1].to, ["dave@example.com"]);
    assert_eq!(sent[0].from, "bob@example.net", "the original envelope sender");
    assert!(sent[0].data.contains("Subject: fwd\r\n"));
    // :copy on one of them: the implicit keep is cancelled by the other, so nothing is kept.
    assert!(messages(&server, "alice", "INBOX").await.unwrap().is_empty());
}

#[tokio::test]
async fn failed_redirect_keeps_the_message() {
    // A port nobody listens on.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let server = common::start_with(|c| c.submission.relay = Some(closed)).await;
    activate(&server, r#"redirect "carol@example.com";"#).await;
    let r = lmtp(&server, "bob@example.net", &[RCPT], &msg("fwd", "")).await;
    assert!(r[0].starts_with("250 2.0.0 <alice@example.org> delivered"), "{r:?}");
    assert_eq!(messages(&server, "alice", "INBOX").await.unwrap().len(), 1);
}

#[tokio::test]
async fn vacation_replies_once_and_never_to_lists_or_robots() {
    let (relay, sent) = smtp_sink().await;
    let server = common::start_with(|c| c.submission.relay = Some(relay)).await;
    activate(&server, r#"require "vacation"; vacation :days 7 :subject "Away" "I am away until Monday.";"#).await;
    lmtp(&server, "bob@example.net", &[RCPT], &msg("first", "")).await;
    {
        let sent = sent.lock().unwrap();
        assert_eq!(sent.len(), 1, "{sent:?}");
        let reply = &sent[0];
        assert_eq!(reply.from, "", "null return path (RFC 3834 §3.3)");
        assert_eq!(reply.to, ["bob@example.net"]);
        assert!(reply.data.contains("Auto-Submitted: auto-replied"), "{}", reply.data);
        assert!(reply.data.contains("In-Reply-To: <first@example.net>\r\n"), "{}", reply.data);
        assert!(reply.data.contains("References: <first@example.net>\r\n"), "{}", reply.data);
        assert!(reply.data.contains("Subject: Away\r\n"));
        assert!(reply.data.contains("I am away until Monday."));
    }
    // The same sender within :days: no second reply.
    lmtp(&server, "bob@example.net", &[RCPT], &msg("second", "")).await;
    // Mailing list and auto-submitted mail: never.
    lmtp(&server, "list@example.net", &[RCPT], &msg("list post", "List-Id: <dev.example.net>\r\n")).await;
    lmtp(&server, "robot@example.net", &[RCPT], &msg("robot", "Auto-Submitted: auto-generated\r\n")).await;
    lmtp(&server, "other@example.net", &[RCPT], &msg("other", "")).await;
    let sent = sent.lock().unwrap().clone();
    assert_eq!(sent.iter().map(|s| s.to[0].as_str()).collect::<Vec<_>>(), ["bob@example.net", "other@example.net"]);
    assert_eq!(messages(&server, "alice", "INBOX").await.unwrap().len(), 5, "vacation keeps every message");
}

#[tokio::test]
async fn runtime_error_keeps_mail_and_shows_over_managesieve() {
    let server = common::start().await;
    activate(
        &server,
        r#"require ["fileinto", "ihave"];
fileinto "Junk";
if header :contains "subject" "boom" { error "custom failure in my filter"; }"#,
    )
    .await;
    let r = lmtp(&server, "bob@example.net", &[RCPT], &msg("boom", "")).await;
    assert!(r[0].starts_with("250 2.0.0"), "{r:?}");
    assert_eq!(messages(&server, "alice", "INBOX").await.unwrap().len(), 1, "kept in INBOX");
    assert!(messages(&server, "alice", "Junk").await.unwrap().is_empty(), "no action of the failed run");
    let mut s = Sieve::login(server.managesieve_addr).await;
    let r = s.cmd("GETSCRIPT \"main\"").await;
    let last = r.last().unwrap();
    assert!(last.starts_with("OK (WARNINGS) \"last run at delivery failed"), "{r:?}");
    assert!(last.contains("custom failure in my filter"), "{r:?}");
    // Uploading a new version clears it.
    assert_eq!(s.put("main", "keep;").await, ["OK"]);
    assert_eq!(s.cmd("GETSCRIPT \"main\"").await.last().unwrap(), "OK");
}

#[tokio::test]
async fn global_before_script_runs_first() {
    let dir = tempfile::tempdir().unwrap();
    let before = dir.path().join("before.sieve");
    std::fs::write(
        &before,
        "require [\"fileinto\", \"mailbox\"];\nif header :is \"X-Spam\" \"yes\" { fileinto :create \"Junk\"; stop; }\n",
    )
    .unwrap();
    let path = before.clone();
    let server = common::start_with(move |c| c.sieve.before = Some(path)).await;
    // Without a personal script, the global one still runs.
    lmtp(&server, "bob@example.net", &[RCPT], &msg("spam", "X-Spam: yes\r\n")).await;
    assert_eq!(messages(&server, "alice", "Junk").await.unwrap().len(), 1);
    activate(&server, "require \"imap4flags\"; addflag \"\\\\Flagged\";").await;
    lmtp(&server, "bob@example.net", &[RCPT], &msg("ham", "")).await;
    lmtp(&server, "bob@example.net", &[RCPT], &msg("spam again", "X-Spam: yes\r\n")).await;
    let junk = messages(&server, "alice", "Junk").await.unwrap();
    assert_eq!(junk.len(), 2);
    let inbox = messages(&server, "alice", "INBOX").await.unwrap();
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].system, store::Flags::FLAGGED);
}

/// `postfach deliver` runs the same scripts: fileinto works, reject exits 77
/// (EX_NOPERM) with the reason on stderr.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliver_command_runs_scripts() {
    use std::io::Write as _;
    let server = common::start().await;
    activate(
        &server,
        r#"require ["fileinto", "reject", "mailbox"];
if header :contains "subject" "nope" { reject "Go away."; } else { fileinto :create "Piped"; }"#,
    )
    .await;
    let run = |subject: &str| {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_postfach"))
            .arg("--data")
            .arg(server.dir.path())
            .args(["deliver", "--to", "alice", "--from", "bob@example.net"])
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(&msg(subject, "")).unwrap();
        let out = child.wait_with_output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (code, _) = tokio::task::block_in_place(|| run("hello"));
    assert_eq!(code, Some(0));
    assert_eq!(messages(&server, "alice", "Piped").await.map(|v| v.len()), Some(1));
    let (code, err) = tokio::task::block_in_place(|| run("nope"));
    assert_eq!(code, Some(77), "{err}");
    assert!(err.contains("Go away."), "{err}");
}

/// RFC 5235 at delivery: spamtest and virustest read the headers named in
/// `[sieve]`; a message without them counts as not tested ("0").
#[tokio::test]
async fn sorts_by_spamtest_and_virustest_from_configured_headers() {
    let server = common::start_with(|c| {
        c.sieve.spamtest_header = Some("X-Spam-Status: score=(-?[0-9.]+)".into());
        c.sieve.spamtest_max = 5.0;
        c.sieve.virustest_header = Some("X-Virus-Status: ^(\\w+)".into());
    })
    .await;
    activate(
        &server,
        r#"require ["spamtest", "virustest", "fileinto", "mailbox", "relational", "comparator-i;ascii-numeric"];
if virustest :value "ge" :comparator "i;ascii-numeric" "4" { fileinto :create "Quarantine"; stop; }
if spamtest :value "eq" :comparator "i;ascii-numeric" "0" { fileinto :create "Unscanned"; }
elsif spamtest :value "ge" :comparator "i;ascii-numeric" "6" { fileinto :create "Junk"; }"#,
    )
    .await;
    let spam = msg("cheap pills", "X-Spam-Status: Yes, score=7.9 required=5.0\r\nX-Virus-Status: Clean\r\n");
    let ham = msg("lunch", "X-Spam-Status: No, score=1.2 required=5.0\r\nX-Virus-Status: Clean\r\n");
    let virus = msg("invoice", "X-Spam-Status: No, score=0.0\r\nX-Virus-Status: Infected (Eicar-Signature)\r\n");
    let unscanned = msg("direct", "");
    for m in [&spam, &ham, &virus, &unscanned] {
        let r = lmtp(&server, "bob@example.net", &[RCPT], m).await;
        assert!(r[0].starts_with("250"), "{r:?}");
    }
    let count = |mailbox: &'static str| {
        let server = &server;
        async move { messages(server, "alice", mailbox).await.map(|v| v.len()) }
    };
    assert_eq!(count("Junk").await, Some(1));
    assert_eq!(count("Quarantine").await, Some(1));
    assert_eq!(count("Unscanned").await, Some(1));
    assert_eq!(count("INBOX").await, Some(1), "only the clean, scanned message");
}
