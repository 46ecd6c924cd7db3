//! Quotas (RFC 9208) against a real server: LMTP per-recipient replies,
//! `deliver` exit codes, APPEND/COPY refused with `[OVERQUOTA]`, MOVE within
//! the account allowed, GETQUOTAROOT/GETQUOTA values, STATUS DELETED-STORAGE,
//! SETQUOTA refused, the usage warning, the `quota` CLI, and the check
//! racing concurrent writers.

mod common;

use std::path::Path;
use std::process::Output;

use common::{Lmtp, Raw};
use store::QuotaLimits;

const SENDER: &str = "sender@example.org";

fn add(server: &common::TestServer, name: &str) {
    server.store.create_account(name, "$argon2id$not-a-login").unwrap();
}

fn limit(server: &common::TestServer, name: &str, storage: Option<u64>, messages: Option<u64>) {
    server.store.set_quota(name, QuotaLimits { storage, messages }).unwrap();
}

async fn count(server: &common::TestServer, name: &str, mailbox: &str) -> usize {
    let id = server.store.account_id(name).unwrap().unwrap();
    let acc = server.store.account(id).unwrap();
    let mb = acc.mailbox(mailbox).await.unwrap().unwrap();
    acc.summaries(mb.id).await.unwrap().len()
}

/// A message of exactly `size` bytes (at least 20).
fn sized(subject: &str, size: usize) -> Vec<u8> {
    let mut m = format!("Subject: {subject}\r\n\r\n").into_bytes();
    assert!(m.len() + 2 <= size, "{size} is too small");
    while m.len() + 2 < size {
        m.push(b'x');
    }
    m.extend_from_slice(b"\r\n");
    m
}

/// APPENDs and returns the tagged line.
async fn try_append(raw: &mut Raw, mailbox: &str, msg: &[u8]) -> String {
    raw.send(format!("A APPEND {mailbox} {{{}+}}\r\n", msg.len()).as_bytes()).await;
    raw.send(msg).await;
    raw.send(b"\r\n").await;
    raw.until_tagged("A").await.pop().unwrap()
}

/// One unknown recipient (550 at RCPT), one over quota (552 5.2.2 after DATA),
/// one delivered: exactly one reply per accepted recipient, in order.
#[tokio::test]
async fn lmtp_mixed_unknown_over_quota_ok() {
    let server = common::start().await;
    add(&server, "bob");
    limit(&server, "bob", Some(100), None);
    let mut l = Lmtp::hello(server.lmtp_addr).await;
    // No SIZE: the quota is only known to be exceeded after DATA.
    assert_eq!(l.cmd(&format!("MAIL FROM:<{SENDER}>")).await, ["250 2.1.0 sender OK"]);
    assert_eq!(l.cmd("RCPT TO:<nobody@example.test>").await, ["550 5.1.1 <nobody@example.test>: no such user"]);
    assert_eq!(l.cmd("RCPT TO:<bob@example.test>").await, ["250 2.1.5 recipient OK"]);
    assert_eq!(l.cmd("RCPT TO:<alice@example.test>").await, ["250 2.1.5 recipient OK"]);
    let replies = l.data(&sized("mixed", 500), 2).await;
    assert_eq!(
        replies,
        ["552 5.2.2 <bob@example.test> mailbox full", "250 2.0.0 <alice@example.test> delivered (uid 1)"]
    );
    assert_eq!(l.cmd("NOOP").await, ["250 2.0.0 OK"]);
    assert_eq!(count(&server, "bob", "INBOX").await, 0);
    assert_eq!(count(&server, "alice", "INBOX").await, 1);

    // With SIZE= the over-quota recipient is refused at RCPT already.
    assert_eq!(l.cmd(&format!("MAIL FROM:<{SENDER}> SIZE=500")).await, ["250 2.1.0 sender OK"]);
    assert_eq!(l.cmd("RCPT TO:<bob@example.test>").await, ["552 5.2.2 <bob@example.test> mailbox full"]);
    assert_eq!(l.cmd("RCPT TO:<alice@example.test>").await, ["250 2.1.5 recipient OK"]);
    assert_eq!(l.data(&sized("sized", 500), 1).await, ["250 2.0.0 <alice@example.test> delivered (uid 2)"]);
    // A small message still fits under bob's 100 bytes? No: the trace headers
    // alone are larger; a message-count limit of 0 refuses anything.
    limit(&server, "bob", None, Some(0));
    assert_eq!(l.cmd(&format!("MAIL FROM:<{SENDER}> SIZE=10")).await, ["250 2.1.0 sender OK"]);
    assert_eq!(l.cmd("RCPT TO:<bob@example.test>").await, ["552 5.2.2 <bob@example.test> mailbox full"]);
    assert_eq!(l.cmd("RSET").await, ["250 2.0.0 OK"]);
    assert_eq!(count(&server, "bob", "INBOX").await, 0);
}

/// `over_quota_temporary = true`: 452 4.2.2, at RCPT and after DATA.
#[tokio::test]
async fn lmtp_over_quota_temporary() {
    let server = common::start_with(|c| c.quota.over_quota_temporary = true).await;
    add(&server, "bob");
    limit(&server, "bob", None, Some(0));
    let mut l = Lmtp::hello(server.lmtp_addr).await;
    assert_eq!(l.cmd(&format!("MAIL FROM:<{SENDER}> SIZE=20")).await, ["250 2.1.0 sender OK"]);
    assert_eq!(
        l.cmd("RCPT TO:<bob@example.test>").await,
        ["452 4.2.2 <bob@example.test> mailbox full, try again later"]
    );
    assert_eq!(l.cmd("RSET").await, ["250 2.0.0 OK"]);
    let replies = l.deliver(SENDER, &["alice@example.test", "bob@example.test"], &common::message("t", "x")).await;
    assert_eq!(
        replies,
        [
            "250 2.0.0 <alice@example.test> delivered (uid 1)",
            "452 4.2.2 <bob@example.test> mailbox full, try again later"
        ]
    );
    assert_eq!(count(&server, "bob", "INBOX").await, 0);
}

/// APPEND over the storage or message limit: `NO [OVERQUOTA]`, nothing
/// stored; MULTIAPPEND counts all its messages together.
#[tokio::test]
async fn append_over_quota() {
    // Without the usage warning, whose notice would land in INBOX.
    let server = common::start_with(|c| c.quota.warning_percent = 0).await;
    limit(&server, "alice", Some(1000), Some(3));
    let mut raw = Raw::login(server.addr).await;
    assert!(try_append(&mut raw, "INBOX", &sized("a", 600)).await.starts_with("A OK [APPENDUID"));
    let r = try_append(&mut raw, "INBOX", &sized("b", 401)).await;
    assert!(r.starts_with("A NO [OVERQUOTA]"), "{r}");
    // Exactly up to the limit is fine.
    assert!(try_append(&mut raw, "Drafts", &sized("c", 400)).await.starts_with("A OK"));
    assert_eq!(count(&server, "alice", "INBOX").await, 1);
    // MULTIAPPEND: two messages of 300 with no room: neither is stored.
    limit(&server, "alice", Some(1500), Some(3));
    let (m1, m2) = (sized("m1", 300), sized("m2", 300));
    raw.send(format!("A APPEND INBOX {{{}+}}\r\n", m1.len()).as_bytes()).await;
    raw.send(&m1).await;
    raw.send(format!(" {{{}+}}\r\n", m2.len()).as_bytes()).await;
    raw.send(&m2).await;
    raw.send(b"\r\n").await;
    let r = raw.until_tagged("A").await.pop().unwrap();
    assert!(r.starts_with("A NO [OVERQUOTA]"), "{r}");
    assert_eq!(count(&server, "alice", "INBOX").await, 1);
    // The message count: 2 stored, limit 3, one more fits, then no more.
    limit(&server, "alice", None, Some(3));
    assert!(try_append(&mut raw, "INBOX", &sized("d", 100)).await.starts_with("A OK"));
    let r = try_append(&mut raw, "INBOX", &sized("e", 100)).await;
    assert!(r.starts_with("A NO [OVERQUOTA]"), "{r}");
    let r = raw.cmd("STATUS INBOX (MESSAGES)").await;
    assert_eq!(r[0], "* STATUS INBOX (MESSAGES 2)");
}

/// COPY into the over-quota account is refused; MOVE within it does not
/// change usage and works at the limit.
#[tokio::test]
async fn copy_refused_move_allowed_at_limit() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    common::append(&mut raw, "INBOX", &common::message("one", "1")).await;
    common::append(&mut raw, "INBOX", &common::message("two", "2")).await;
    limit(&server, "alice", None, Some(2));
    raw.cmd("SELECT INBOX").await;
    let r = raw.cmd("COPY 1 Trash").await;
    assert!(r.last().unwrap().starts_with("T NO [OVERQUOTA]"), "{r:?}");
    let r = raw.cmd("UID COPY 1:* Archive").await;
    assert!(r.last().unwrap().starts_with("T NO [OVERQUOTA]"), "{r:?}");
    assert_eq!(count(&server, "alice", "Trash").await, 0);
    assert_eq!(count(&server, "alice", "Archive").await, 0);
    let r = raw.cmd("MOVE 1 Trash").await;
    assert!(r.last().unwrap().starts_with("T OK"), "{r:?}");
    assert_eq!(count(&server, "alice", "Trash").await, 1);
    assert_eq!(count(&server, "alice", "INBOX").await, 1);
    // With room again, COPY works.
    limit(&server, "alice", None, Some(3));
    let r = raw.cmd("COPY 1 Archive").await;
    assert!(r.last().unwrap().starts_with("T OK [COPYUID"), "{r:?}");
}

/// GETQUOTAROOT and GETQUOTA report what was appended: STORAGE in KiB
/// (usage rounded up, limit down; RFC 9208 §5.1), MESSAGE as a count.
#[tokio::test]
async fn getquotaroot_and_getquota_values() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    let caps = raw.cmd("CAPABILITY").await;
    for c in ["QUOTA", "QUOTA=RES-STORAGE", "QUOTA=RES-MESSAGE"] {
        assert!(caps[0].split(' ').any(|x| x == c), "{caps:?}");
    }
    // Without limits there is no quota root.
    assert_eq!(raw.cmd("GETQUOTAROOT INBOX").await, ["* QUOTAROOT INBOX", "T OK GETQUOTAROOT completed"]);
    assert!(raw.cmd("GETQUOTA \"\"").await[0].starts_with("T NO [NONEXISTENT]"));

    limit(&server, "alice", Some(10 * 1024 + 1000), Some(100));
    common::append(&mut raw, "INBOX", &sized("a", 1500)).await;
    common::append(&mut raw, "Sent", &sized("b", 100)).await;
    // 1600 bytes → 2 KiB (rounded up); the limit 11240 bytes → 10 KiB (down).
    assert_eq!(
        raw.cmd("GETQUOTAROOT INBOX").await,
        ["* QUOTAROOT INBOX \"\"", "* QUOTA \"\" (STORAGE 2 10 MESSAGE 2 100)", "T OK GETQUOTAROOT completed"]
    );
    assert_eq!(
        raw.cmd("GETQUOTA \"\"").await,
        ["* QUOTA \"\" (STORAGE 2 10 MESSAGE 2 100)", "T OK GETQUOTA completed"]
    );
    // One resource only: the other is left out.
    limit(&server, "alice", None, Some(5));
    assert_eq!(raw.cmd("GETQUOTA \"\"").await, ["* QUOTA \"\" (MESSAGE 2 5)", "T OK GETQUOTA completed"]);
    assert_eq!(
        raw.cmd("GETQUOTAROOT Sent").await,
        ["* QUOTAROOT \"Sent\" \"\"", "* QUOTA \"\" (MESSAGE 2 5)", "T OK GETQUOTAROOT completed"]
    );
    assert!(raw.cmd("GETQUOTA \"other\"").await[0].starts_with("T NO [NONEXISTENT]"));
    assert!(raw.cmd("GETQUOTAROOT nosuch").await[0].starts_with("T NO [NONEXISTENT]"));
    // SELECTED state too.
    raw.cmd("SELECT INBOX").await;
    assert_eq!(raw.cmd("GETQUOTA \"\"").await.len(), 2);
}

/// STATUS DELETED-STORAGE: the sum of RFC822.SIZE of `\Deleted` messages.
#[tokio::test]
async fn status_deleted_storage() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    common::append(&mut raw, "INBOX", &sized("a", 700)).await;
    common::append(&mut raw, "INBOX", &sized("b", 300)).await;
    common::append(&mut raw, "INBOX", &sized("c", 50)).await;
    let r = raw.cmd("STATUS INBOX (MESSAGES DELETED DELETED-STORAGE)").await;
    assert_eq!(r[0], "* STATUS INBOX (MESSAGES 3 DELETED 0 DELETED-STORAGE 0)");
    raw.cmd("SELECT INBOX").await;
    raw.cmd("STORE 1,3 +FLAGS.SILENT (\\Deleted)").await;
    let r = raw.cmd("STATUS INBOX (DELETED-STORAGE DELETED)").await;
    assert_eq!(r[0], "* STATUS INBOX (DELETED-STORAGE 750 DELETED 2)");
}

/// SETQUOTA is for administrators; there are none over IMAP.
#[tokio::test]
async fn setquota_is_refused() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    let r = raw.cmd("SETQUOTA \"\" (STORAGE 512)").await;
    assert_eq!(r.len(), 1);
    assert!(r[0].starts_with("T NO [NOPERM] only the server administrator"), "{r:?}");
    assert_eq!(
        server.store.quota_limits(server.store.account_id("alice").unwrap().unwrap()).unwrap(),
        QuotaLimits::default()
    );
    assert!(raw.cmd("SETQUOTA \"\" (STORAGE x)").await[0].starts_with("T BAD"));
}

/// Crossing `warning_percent` delivers one notice; staying above does not
/// repeat it; falling below and crossing again warns again.
#[tokio::test]
async fn warning_is_delivered_once_per_crossing() {
    let server = common::start().await;
    limit(&server, "alice", Some(100_000), None);
    let mut raw = Raw::login(server.addr).await;
    let notices = |r: Vec<String>| r[0].split(' ').skip(2).count();
    common::append(&mut raw, "Archive", &sized("big", 85_000)).await;
    assert_eq!(count(&server, "alice", "INBOX").await, 0);
    // 85 000 + 5 000 = 90 %: one notice in INBOX.
    common::append(&mut raw, "Archive", &sized("more", 5_000)).await;
    assert_eq!(count(&server, "alice", "INBOX").await, 1);
    raw.cmd("SELECT INBOX").await;
    let r = raw.cmd("SEARCH SUBJECT \"is 90% full\"").await;
    assert_eq!(notices(r), 1);
    let r = raw.cmd("FETCH 1 BODY[TEXT]").await;
    assert!(r[0].contains("reached 90% of its quota"), "{r:?}");
    // Still above: no second notice, also not from LMTP.
    common::append(&mut raw, "Archive", &sized("again", 1_000)).await;
    let replies = Lmtp::hello(server.lmtp_addr).await.deliver(SENDER, &["alice@x.test"], &sized("lmtp", 500)).await;
    assert!(replies[0].starts_with("250 "), "{replies:?}");
    assert_eq!(count(&server, "alice", "INBOX").await, 2, "the notice and the LMTP message");
    assert!(server.store.quota_info("alice").unwrap().warned);
    // Below again (expunge the big one), then above again: a second notice.
    raw.cmd("SELECT Archive").await;
    raw.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)").await;
    raw.cmd("EXPUNGE").await;
    common::append(&mut raw, "Archive", &sized("small", 1_000)).await;
    assert!(!server.store.quota_info("alice").unwrap().warned, "the flag resets below the threshold");
    assert_eq!(count(&server, "alice", "INBOX").await, 2);
    common::append(&mut raw, "Archive", &sized("big2", 85_000)).await;
    assert_eq!(count(&server, "alice", "INBOX").await, 3);
    raw.cmd("SELECT INBOX").await;
    assert_eq!(notices(raw.cmd("SEARCH SUBJECT \"is 90% full\"").await), 2);
}

/// No warning when disabled.
#[tokio::test]
async fn warning_can_be_disabled() {
    let server = common::start_with(|c| c.quota.warning_percent = 0).await;
    limit(&server, "alice", None, Some(2));
    let mut raw = Raw::login(server.addr).await;
    common::append(&mut raw, "Archive", &sized("a", 100)).await;
    common::append(&mut raw, "Archive", &sized("b", 100)).await;
    assert_eq!(count(&server, "alice", "INBOX").await, 0);
}

/// The check runs inside the write transaction: of many concurrent appends
/// exactly as many as the limit allows succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_never_exceed_the_limit() {
    let server = common::start_with(|c| c.quota.warning_percent = 0).await;
    let id = server.store.account_id("alice").unwrap().unwrap();
    let acc = server.store.account(id).unwrap();
    let inbox = acc.mailbox("INBOX").await.unwrap().unwrap();
    let limits = QuotaLimits { storage: Some(10_000), messages: None };
    let blob = server.store.blobs().write(&sized("c", 1000)).unwrap();
    let mut tasks = Vec::new();
    for _ in 0..30 {
        let acc = acc.clone();
        let new = store::NewMessage {
            blob: blob.clone(),
            size: 1000,
            prefix: Vec::new(),
            flags: store::Flags::default(),
            internal_date: 0,
            internal_date_zone: 0,
            meta: Default::default(),
        };
        tasks.push(tokio::spawn(async move { acc.append_within(inbox.id, vec![new], limits).await }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(store::Error::OverQuota(r)) => assert_eq!(r, "STORAGE"),
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(ok, 10);
    assert_eq!(acc.usage().await.unwrap(), store::QuotaUsage { storage: 10_000, messages: 10 });
}

// ------------------------------------------------------------ binaries

fn postfach(data: &Path, args: &[&str], stdin: &[u8]) -> Output {
    common::postfach_cli(data, args, stdin)
}

#[track_caller]
fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "failed: {} {}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `postfach deliver` over quota: 73 (EX_CANTCREAT), or 75 (EX_TEMPFAIL) when
/// over quota is configured as temporary; nothing stored.
#[tokio::test]
async fn deliver_exit_code_over_quota() {
    let server = common::start().await;
    let data = server.dir.path();
    let msg = b"From: bob@example.org\nSubject: piped\n\nhello\n";
    limit(&server, "alice", Some(10), None);
    let o = postfach(data, &["deliver", "--to", "alice"], msg);
    assert_eq!(o.status.code(), Some(73), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("over quota"));
    std::fs::write(data.join("postfach.toml"), "[quota]\nover_quota_temporary = true\n").unwrap();
    assert_eq!(postfach(data, &["deliver", "--to", "alice"], msg).status.code(), Some(75));
    assert_eq!(count(&server, "alice", "INBOX").await, 0);
    limit(&server, "alice", None, None);
    assert_eq!(postfach(data, &["deliver", "--to", "alice"], msg).status.code(), Some(0));
    assert_eq!(count(&server, "alice", "INBOX").await, 1);
}

/// `quota set|get|list`, `none`, suffixes, errors, and the configured default
/// for new accounts.
#[test]
fn cli_quota_set_get_list() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    std::fs::write(data.join("postfach.toml"), "[quota]\ndefault_messages = 500\n").unwrap();
    ok(&postfach(data, &["user", "add", "bob", "--password-stdin"], b"pw\n"));
    ok(&postfach(data, &["user", "add", "carol", "--password-stdin"], b"pw\n"));
    let get = ok(&postfach(data, &["quota", "get", "bob"], b""));
    assert!(get.contains("messages: 0 of 500 (0%)"), "{get}");
    assert!(get.contains("storage:  0 B (unlimited)"), "{get}");

    assert_eq!(
        ok(&postfach(data, &["quota", "set", "bob", "--storage", "2G", "--messages", "100000"], b"")),
        "bob: storage 2.0 GiB, messages 100000\n"
    );
    // A limit not given stays.
    assert_eq!(
        ok(&postfach(data, &["quota", "set", "bob", "--storage", "512K"], b"")),
        "bob: storage 512.0 KiB, messages 100000\n"
    );
    assert_eq!(
        ok(&postfach(data, &["quota", "list"], b"")),
        "bob storage 0/524288 messages 0/100000\ncarol storage 0/unlimited messages 0/500\n"
    );
    ok(&postfach(data, &["quota", "set", "bob", "--messages", "none"], b""));
    let get = ok(&postfach(data, &["quota", "get", "bob"], b""));
    assert!(get.contains("storage:  0 B of 512.0 KiB (0%)"), "{get}");
    assert!(get.contains("messages: 0 (unlimited)"), "{get}");
    // Errors.
    for bad in [
        &["quota", "set", "nobody", "--storage", "1M"][..],
        &["quota", "set", "bob", "--storage", "lots"],
        &["quota", "set", "bob", "--messages", "-1"],
        &["quota", "get", "nobody"],
    ] {
        assert!(!postfach(data, bad, b"").status.success(), "{bad:?}");
    }
}
