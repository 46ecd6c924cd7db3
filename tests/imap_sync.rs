//! Several devices at once (DESIGN.md §3): a session selected on a mailbox
//! hears about other sessions' changes at its next command that allows them,
//! and during IDLE within a second. EXPUNGE is never sent during FETCH,
//! STORE or SEARCH (RFC 9051 §7.5.1).

mod common;

use std::time::Duration;

use common::{append, message, Raw};

fn has(lines: &[String], needle: &str) -> bool {
    lines.iter().any(|l| l.contains(needle))
}

#[tokio::test]
async fn new_message_from_another_session_is_announced_with_exists() {
    let server = common::start().await;
    let mut a = Raw::login(server.addr).await;
    let mut b = Raw::login(server.addr).await;
    a.cmd("SELECT INBOX").await;
    append(&mut b, "INBOX", &message("one", "hello")).await;
    let r = a.cmd("NOOP").await;
    assert!(has(&r, "* 1 EXISTS"), "{r:?}");
}

#[tokio::test]
async fn flag_change_from_another_session_is_announced_with_fetch() {
    let server = common::start().await;
    let mut a = Raw::login(server.addr).await;
    let mut b = Raw::login(server.addr).await;
    append(&mut b, "INBOX", &message("one", "hello")).await;
    a.cmd("SELECT INBOX").await;
    b.cmd("SELECT INBOX").await;
    let r = b.cmd("STORE 1 +FLAGS (\\Flagged)").await;
    assert!(has(&r, "* 1 FETCH (FLAGS (\\Flagged))"), "{r:?}");
    let r = a.cmd("NOOP").await;
    // `a` selected first: the message is \Recent for it.
    assert!(has(&r, "* 1 FETCH (UID 1 FLAGS (\\Flagged \\Recent))"), "{r:?}");
    // Told once: a second NOOP has nothing new.
    let r = a.cmd("NOOP").await;
    assert_eq!(r.len(), 1, "{r:?}");
}

#[tokio::test]
async fn expunge_is_deferred_during_fetch_store_search_and_sent_at_noop() {
    let server = common::start().await;
    let mut a = Raw::login(server.addr).await;
    let mut b = Raw::login(server.addr).await;
    for i in 0..3 {
        append(&mut b, "INBOX", &message(&format!("m{i}"), "x")).await;
    }
    a.cmd("SELECT INBOX").await;
    b.cmd("SELECT INBOX").await;
    b.cmd("STORE 2 +FLAGS.SILENT (\\Deleted)").await;
    let r = b.cmd("EXPUNGE").await;
    assert!(has(&r, "* 2 EXPUNGE"), "{r:?}");

    // RFC 9051 §7.5.1: no EXPUNGE while answering FETCH, STORE or SEARCH,
    // so sequence numbers stay valid: message 3 is still number 3.
    let r = a.cmd("FETCH 1:3 (UID)").await;
    assert!(!has(&r, "EXPUNGE"), "{r:?}");
    assert!(has(&r, "* 3 FETCH (UID 3)"), "{r:?}");
    let r = a.cmd("STORE 3 +FLAGS (\\Seen)").await;
    assert!(!has(&r, "EXPUNGE"), "{r:?}");
    assert!(has(&r, "* 3 FETCH (FLAGS (\\Seen \\Recent))"), "{r:?}");
    let r = a.cmd("SEARCH ALL").await;
    assert!(!has(&r, "EXPUNGE"), "{r:?}");

    let r = a.cmd("NOOP").await;
    assert!(has(&r, "* 2 EXPUNGE"), "{r:?}");
    let r = a.cmd("FETCH 1:* (UID)").await;
    assert!(has(&r, "* 2 FETCH (UID 3)"), "{r:?}");
}

#[tokio::test]
async fn idle_hears_new_messages_flags_and_expunges_within_a_second() {
    let server = common::start().await;
    let mut a = Raw::login(server.addr).await;
    let mut b = Raw::login(server.addr).await;
    a.cmd("SELECT INBOX").await;
    // An IMAP4rev2 writer never takes \Recent, so the new message is `a`'s
    // whoever syncs first (RFC 3501 §2.3.2).
    b.cmd("ENABLE IMAP4rev2").await;
    b.cmd("SELECT INBOX").await;
    a.send(b"I IDLE\r\n").await;
    assert!(a.line().await.starts_with("+ "));

    append(&mut b, "INBOX", &message("idle", "x")).await;
    let l = a.maybe_line(Duration::from_secs(1)).await;
    assert_eq!(l.as_deref(), Some("* 1 EXISTS"));
    let l = a.maybe_line(Duration::from_secs(1)).await;
    assert_eq!(l.as_deref(), Some("* 1 RECENT"));

    b.cmd("STORE 1 +FLAGS (\\Deleted)").await;
    let l = a.maybe_line(Duration::from_secs(1)).await;
    assert_eq!(l.as_deref(), Some("* 1 FETCH (UID 1 FLAGS (\\Deleted \\Recent))"));

    b.cmd("EXPUNGE").await;
    let l = a.maybe_line(Duration::from_secs(1)).await;
    assert_eq!(l.as_deref(), Some("* 1 EXPUNGE"));

    a.send(b"DONE\r\n").await;
    let r = a.until_tagged("I").await;
    assert!(r.last().unwrap().starts_with("I OK"), "{r:?}");
}

#[tokio::test]
async fn command_pipelined_right_after_done_is_answered() {
    // iOS Mail sends DONE and its next command in one packet.
    let server = common::start().await;
    let mut a = Raw::login(server.addr).await;
    a.cmd("SELECT INBOX").await;
    a.send(b"I IDLE\r\n").await;
    assert!(a.line().await.starts_with("+ "));
    a.send(b"DONE\r\nN NOOP\r\n").await;
    let r = a.until_tagged("I").await;
    assert!(r.last().unwrap().starts_with("I OK"), "{r:?}");
    let r = a.until_tagged("N").await;
    assert!(r.last().unwrap().starts_with("N OK"), "{r:?}");
}

#[tokio::test]
async fn two_idle_connections_on_one_account_both_hear_changes() {
    let server = common::start().await;
    let mut a = Raw::login(server.addr).await;
    let mut c = Raw::login(server.addr).await;
    let mut b = Raw::login(server.addr).await;
    for s in [&mut a, &mut c] {
        s.cmd("SELECT INBOX").await;
        s.send(b"I IDLE\r\n").await;
        assert!(s.line().await.starts_with("+ "));
    }
    append(&mut b, "INBOX", &message("both", "x")).await;
    for s in [&mut a, &mut c] {
        let l = s.maybe_line(Duration::from_secs(1)).await;
        assert_eq!(l.as_deref(), Some("* 1 EXISTS"));
    }
}

/// Two sessions expunging and flagging the same messages concurrently: at
/// the end both views equal the store, message by message.
#[tokio::test]
async fn concurrent_expunge_and_flagging_stay_consistent() {
    let server = common::start().await;
    let mut setup = Raw::login(server.addr).await;
    for i in 0..40 {
        append(&mut setup, "INBOX", &message(&format!("c{i}"), "x")).await;
    }
    let mut tasks = Vec::new();
    for seed in 0..2u64 {
        let addr = server.addr;
        tasks.push(tokio::spawn(async move {
            let mut s = Raw::login(addr).await;
            s.cmd("SELECT INBOX").await;
            let mut x = seed * 7919 + 13;
            for _ in 0..60 {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let uid = 1 + (x >> 33) % 40;
                let cmd = match (x >> 20) % 4 {
                    0 => format!("UID STORE {uid} +FLAGS (\\Deleted)"),
                    1 => format!("UID STORE {uid} +FLAGS (\\Seen $K{})", seed),
                    2 => format!("UID STORE {uid} -FLAGS (\\Seen)"),
                    _ => "EXPUNGE".to_string(),
                };
                let r = s.cmd(&cmd).await;
                assert!(r.last().unwrap().starts_with("T OK"), "{cmd}: {r:?}");
            }
            s
        }));
    }
    let mut sessions = Vec::new();
    for t in tasks {
        sessions.push(t.await.unwrap());
    }
    // The store's truth, read by a fresh session.
    let mut fresh = Raw::login(server.addr).await;
    fresh.cmd("SELECT INBOX").await;
    let truth = fetch_all(&mut fresh).await;
    for s in &mut sessions {
        s.cmd("NOOP").await;
        let view = fetch_all(s).await;
        assert_eq!(view, truth);
    }
}

/// `(seq, uid, sorted flags)` of every message.
async fn fetch_all(s: &mut Raw) -> Vec<(u32, u32, Vec<String>)> {
    let r = s.cmd("FETCH 1:* (UID FLAGS)").await;
    let mut out = Vec::new();
    for l in r.iter().filter(|l| l.starts_with("* ") && l.contains(" FETCH ")) {
        let seq: u32 = l.split_whitespace().nth(1).unwrap().parse().unwrap();
        let uid: u32 = l.split("UID ").nth(1).unwrap().split([' ', ')']).next().unwrap().parse().unwrap();
        let flags = l.split("FLAGS (").nth(1).unwrap().split(')').next().unwrap();
        // \Recent is per session (RFC 3501 §2.3.2): not part of the shared state.
        let mut flags: Vec<String> = flags.split_whitespace().filter(|f| *f != "\\Recent").map(String::from).collect();
        flags.sort();
        out.push((seq, uid, flags));
    }
    out.sort();
    out
}
