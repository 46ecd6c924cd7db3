//! `\Recent` for IMAP4rev1 clients (RFC 3501 §2.3.2, §6.3.1, §7.3.2) and
//! the FLAGS update when a new keyword appears (RFC 9051 §7.3.5). Both were
//! found missing by imaptest's `copy`, `search-flags` and stress runs.

mod common;

use common::{append, message, Raw};

fn has(lines: &[String], needle: &str) -> bool {
    lines.iter().any(|l| l.contains(needle))
}

fn position(lines: &[String], needle: &str) -> usize {
    lines.iter().position(|l| l.contains(needle)).unwrap_or_else(|| panic!("no {needle:?} in {lines:?}"))
}

/// A message is recent for exactly one session: the first read-write
/// IMAP4rev1 session to learn of it, at SELECT or while selected.
#[tokio::test]
async fn recent_belongs_to_the_first_session_that_sees_it() {
    let server = common::start().await;
    let mut a = Raw::login(server.addr).await;
    let mut b = Raw::login(server.addr).await;
    let mut writer = Raw::login(server.addr).await;
    append(&mut writer, "INBOX", &message("one", "x")).await;
    append(&mut writer, "INBOX", &message("two", "x")).await;

    // STATUS counts what nobody has taken yet; EXAMINE looks without taking.
    let r = writer.cmd("STATUS INBOX (RECENT)").await;
    assert!(has(&r, "(RECENT 2)"), "{r:?}");
    let r = b.cmd("EXAMINE INBOX").await;
    assert!(has(&r, "* 2 RECENT"), "{r:?}");
    let r = b.cmd("FETCH 1:2 (FLAGS)").await;
    assert_eq!(r.iter().filter(|l| l.contains("\\Recent")).count(), 2, "{r:?}");
    let r = a.cmd("SELECT INBOX").await;
    assert!(has(&r, "* 2 RECENT"), "EXAMINE took nothing: {r:?}");
    let r = a.cmd("FETCH 1:2 (FLAGS)").await;
    assert_eq!(r.iter().filter(|l| l.contains("\\Recent")).count(), 2, "{r:?}");
    let r = writer.cmd("STATUS INBOX (RECENT)").await;
    assert!(has(&r, "(RECENT 0)"), "{r:?}");

    // A second SELECT gets none of them.
    let r = b.cmd("SELECT INBOX").await;
    assert!(has(&r, "* 0 RECENT"), "{r:?}");
    let r = b.cmd("FETCH 1:2 (FLAGS)").await;
    assert!(!has(&r, "\\Recent"), "{r:?}");
    let r = b.cmd("SEARCH OLD").await;
    assert!(has(&r, "* SEARCH 1 2"), "{r:?}");

    // New mail while both are selected: whoever learns first takes it.
    append(&mut writer, "INBOX", &message("three", "x")).await;
    let r = a.cmd("NOOP").await;
    let exists = position(&r, "* 3 EXISTS");
    assert!(position(&r, "* 3 RECENT") > exists, "RECENT follows EXISTS: {r:?}");
    let r = b.cmd("NOOP").await;
    assert!(has(&r, "* 3 EXISTS") && has(&r, "* 0 RECENT"), "{r:?}");

    // SEARCH RECENT / NEW / OLD (RFC 3501 §6.4.4).
    a.cmd("STORE 1 +FLAGS (\\Seen)").await;
    let r = a.cmd("SEARCH RECENT").await;
    assert!(has(&r, "* SEARCH 1 2 3"), "{r:?}");
    let r = a.cmd("SEARCH NEW").await;
    assert!(has(&r, "* SEARCH 2 3"), "{r:?}");
    let r = a.cmd("SEARCH OLD").await;
    assert!(r.iter().any(|l| l == "* SEARCH"), "{r:?}");
    // STORE's answer carries \Recent too; it cannot be stored.
    let r = a.cmd("STORE 2 +FLAGS (\\Flagged)").await;
    assert!(has(&r, "\\Recent"), "{r:?}");

    // A COPY into a mailbox: recent for the next session there (imaptest `copy`).
    a.cmd("CREATE Box").await;
    a.cmd("COPY 1:2 Box").await;
    let r = b.cmd("SELECT Box").await;
    assert!(has(&r, "* 2 RECENT"), "{r:?}");
}

/// IMAP4rev2 has no `\Recent`: such a session neither shows nor takes it.
#[tokio::test]
async fn imap4rev2_sessions_leave_recent_alone() {
    let server = common::start().await;
    let mut rev2 = Raw::login(server.addr).await;
    let mut rev1 = Raw::login(server.addr).await;
    append(&mut rev1, "INBOX", &message("one", "x")).await;
    rev2.cmd("ENABLE IMAP4rev2").await;
    let r = rev2.cmd("SELECT INBOX").await;
    assert!(!has(&r, "RECENT"), "{r:?}");
    let r = rev2.cmd("FETCH 1 (FLAGS)").await;
    assert!(!has(&r, "\\Recent"), "{r:?}");
    let r = rev1.cmd("SELECT INBOX").await;
    assert!(has(&r, "* 1 RECENT"), "{r:?}");
}

/// RFC 9051 §7.3.5: a keyword the client was not told in FLAGS is announced
/// (FLAGS, then PERMANENTFLAGS) before the first FETCH that carries it, for
/// the session that stored it and for every other session.
#[tokio::test]
async fn new_keywords_are_announced_before_use() {
    let server = common::start().await;
    let mut a = Raw::login(server.addr).await;
    let mut b = Raw::login(server.addr).await;
    append(&mut a, "INBOX", &message("one", "x")).await;
    a.cmd("SELECT INBOX").await;
    b.cmd("SELECT INBOX").await;

    let r = a.cmd("STORE 1 +FLAGS ($Hello)").await;
    let flags = position(&r, "* FLAGS (");
    assert!(r[flags].contains("$Hello"), "{r:?}");
    let perm = position(&r, "[PERMANENTFLAGS (");
    assert!(r[perm].contains("$Hello") && r[perm].contains("\\*"), "{r:?}");
    assert!(position(&r, "* 1 FETCH") > perm && perm > flags, "{r:?}");

    let r = b.cmd("NOOP").await;
    let flags = position(&r, "* FLAGS (");
    assert!(r[flags].contains("$Hello"), "{r:?}");
    assert!(position(&r, "* 1 FETCH") > flags, "{r:?}");
    // Known now: not announced again.
    let r = b.cmd("FETCH 1 (FLAGS)").await;
    assert!(!has(&r, "* FLAGS"), "{r:?}");
    let r = a.cmd("STORE 1 -FLAGS ($Hello)").await;
    assert!(!has(&r, "* FLAGS"), "{r:?}");
    // A new SELECT lists it from the start.
    let r = b.cmd("SELECT INBOX").await;
    assert!(r.iter().any(|l| l.starts_with("* FLAGS (") && l.contains("$Hello")), "{r:?}");
}
