//! CONDSTORE and QRESYNC (RFC 7162): a device that was away catches up in one
//! round trip, and conditional STORE protects concurrent flag changes.

mod common;

use std::time::Duration;

use common::{append, message, Raw};

fn has(lines: &[String], needle: &str) -> bool {
    lines.iter().any(|l| l.contains(needle))
}

fn line<'a>(lines: &'a [String], needle: &str) -> &'a str {
    lines.iter().find(|l| l.contains(needle)).unwrap_or_else(|| panic!("no {needle:?} in {lines:?}"))
}

/// The number after `key` in the line containing it: `[HIGHESTMODSEQ 7]` → 7.
fn number_after(lines: &[String], key: &str) -> u64 {
    let l = line(lines, key);
    let rest = &l[l.find(key).unwrap() + key.len()..];
    rest.trim_start_matches([' ', '(']).chars().take_while(|c| c.is_ascii_digit()).collect::<String>().parse().unwrap()
}

async fn uidvalidity(raw: &mut Raw) -> u64 {
    let r = raw.cmd("STATUS INBOX (UIDVALIDITY)").await;
    number_after(&r, "UIDVALIDITY")
}

#[tokio::test]
async fn condstore_reports_modseqs_everywhere_once_enabled() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    for i in 0..3 {
        append(&mut raw, "INBOX", &message(&format!("c{i}"), "x")).await;
    }
    let r = raw.cmd("ENABLE CONDSTORE").await;
    assert!(has(&r, "* ENABLED CONDSTORE"), "{r:?}");
    let r = raw.cmd("SELECT INBOX").await;
    let highest = number_after(&r, "[HIGHESTMODSEQ");
    assert!(highest >= 3, "{r:?}");

    // Every FETCH carries MODSEQ now (RFC 7162 §3.1), even when not asked.
    let r = raw.cmd("FETCH 1:3 (FLAGS)").await;
    assert_eq!(r.iter().filter(|l| l.contains("MODSEQ (")).count(), 3, "{r:?}");

    // A STORE bumps the message's MODSEQ above the mailbox's old highest.
    let r = raw.cmd("STORE 2 +FLAGS (\\Flagged)").await;
    let m2 = number_after(&r, "MODSEQ");
    assert!(m2 > highest, "{r:?}");
    assert!(has(&r, "UID 2"), "with CONDSTORE, STORE responses carry the UID: {r:?}");

    // CHANGEDSINCE returns only what changed.
    let r = raw.cmd(&format!("FETCH 1:3 (FLAGS) (CHANGEDSINCE {highest})")).await;
    assert_eq!(r.iter().filter(|l| l.starts_with("* ") && l.contains(" FETCH ")).count(), 1, "{r:?}");
    assert!(has(&r, "* 2 FETCH"), "{r:?}");

    // SEARCH MODSEQ n matches MODSEQ >= n and adds the highest MODSEQ of the
    // matches (§3.1.5, §3.1.6).
    let r = raw.cmd(&format!("SEARCH MODSEQ {}", highest + 1)).await;
    assert!(has(&r, &format!("* SEARCH 2 (MODSEQ {m2})")), "{r:?}");

    let r = raw.cmd("STATUS INBOX (HIGHESTMODSEQ)").await;
    assert_eq!(number_after(&r, "HIGHESTMODSEQ"), m2);
}

/// RFC 4731 §3.2: a lone MIN or MAX carries the MODSEQ of the message it
/// returns; MIN MAX the higher of the two; ALL/COUNT the highest of all.
#[tokio::test]
async fn esearch_min_max_modseq_is_that_of_the_returned_message() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    for i in 0..4 {
        append(&mut raw, "INBOX", &message(&format!("m{i}"), "x")).await;
    }
    raw.cmd("ENABLE CONDSTORE").await;
    raw.cmd("SELECT INBOX").await;
    let mut m = Vec::new();
    for seq in [1, 3, 2] {
        let r = raw.cmd(&format!("STORE {seq} +FLAGS (\\Seen)")).await;
        m.push(number_after(&r, "MODSEQ"));
    }
    let (m1, m3, m2) = (m[0], m[1], m[2]);
    let r = raw.cmd("SEARCH RETURN (MIN) MODSEQ 1 SEEN").await;
    assert!(has(&r, "* ESEARCH") && has(&r, &format!("MIN 1 MODSEQ {m1}")), "{r:?}");
    let r = raw.cmd("SEARCH RETURN (MAX) MODSEQ 1 SEEN").await;
    assert!(has(&r, &format!("MAX 3 MODSEQ {m3}")), "{r:?}");
    let r = raw.cmd("SEARCH RETURN (MIN MAX) MODSEQ 1 1:2 SEEN").await;
    assert!(has(&r, &format!("MIN 1 MAX 2 MODSEQ {}", m1.max(m2))), "{r:?}");
    let r = raw.cmd("SEARCH RETURN (COUNT) MODSEQ 1 1:3 SEEN").await;
    assert!(has(&r, &format!("COUNT 3 MODSEQ {}", m2.max(m3).max(m1))), "{r:?}");
}

#[tokio::test]
async fn fetch_modseq_is_a_condstore_enabling_command() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    append(&mut raw, "INBOX", &message("e", "x")).await;
    let r = raw.cmd("SELECT INBOX").await;
    assert!(!has(&r, "HIGHESTMODSEQ"), "not before CONDSTORE is enabled: {r:?}");
    // The first enabling command with a mailbox selected reports HIGHESTMODSEQ.
    let r = raw.cmd("FETCH 1 (MODSEQ)").await;
    assert!(has(&r, "[HIGHESTMODSEQ"), "{r:?}");
    assert!(has(&r, "MODSEQ ("), "{r:?}");
}

#[tokio::test]
async fn unchangedsince_refuses_stale_stores_with_modified() {
    let server = common::start().await;
    let mut a = Raw::login(server.addr).await;
    let mut b = Raw::login(server.addr).await;
    for i in 0..2 {
        append(&mut a, "INBOX", &message(&format!("u{i}"), "x")).await;
    }
    a.cmd("SELECT INBOX").await;
    b.cmd("SELECT INBOX").await;
    let r = a.cmd("FETCH 1:2 (MODSEQ)").await;
    let before = number_after(&r, "MODSEQ");

    // Another device changes message 1 first.
    b.cmd("STORE 1 +FLAGS (\\Seen)").await;

    // RFC 7162 §3.1.3: message 1 changed since, so it is refused; message 2 is
    // stored and reported even with .SILENT, with its new MODSEQ.
    let r = a.cmd(&format!("STORE 1:2 (UNCHANGEDSINCE {before}) +FLAGS.SILENT (\\Answered)")).await;
    assert!(r.last().unwrap().contains("[MODIFIED 1]"), "{r:?}");
    assert!(has(&r, "* 2 FETCH"), "{r:?}");
    assert!(!line(&r, "* 2 FETCH").is_empty() && has(&r, "MODSEQ ("), "{r:?}");
    let r = a.cmd("FETCH 1:2 (FLAGS)").await;
    assert!(!line(&r, "* 1 FETCH").contains("\\Answered"), "{r:?}");
    assert!(line(&r, "* 2 FETCH").contains("\\Answered"), "{r:?}");
}

#[tokio::test]
async fn qresync_expunge_is_vanished() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    for i in 0..4 {
        append(&mut raw, "INBOX", &message(&format!("v{i}"), "x")).await;
    }
    let r = raw.cmd("ENABLE QRESYNC").await;
    assert!(has(&r, "* ENABLED CONDSTORE QRESYNC"), "QRESYNC implies CONDSTORE: {r:?}");
    raw.cmd("SELECT INBOX").await;
    raw.cmd("STORE 2:3 +FLAGS.SILENT (\\Deleted)").await;
    let r = raw.cmd("EXPUNGE").await;
    assert!(has(&r, "* VANISHED 2:3"), "{r:?}");
    assert!(!has(&r, " EXPUNGE\r") && !r.iter().any(|l| l.ends_with(" EXPUNGE")), "{r:?}");
}

#[tokio::test]
async fn qresync_select_without_enable_is_bad() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    let r = raw.cmd("SELECT INBOX (QRESYNC (1 1))").await;
    assert!(r.last().unwrap().starts_with("T BAD"), "RFC 7162 §3.2.5: {r:?}");
}

/// A phone that was away reconnects and catches up in one round trip:
/// VANISHED (EARLIER) for what was expunged, FETCH for what changed.
#[tokio::test]
async fn qresync_select_catches_up_in_one_round_trip() {
    let server = common::start().await;
    let mut laptop = Raw::login(server.addr).await;
    for i in 0..6 {
        append(&mut laptop, "INBOX", &message(&format!("q{i}"), "x")).await;
    }
    let validity = uidvalidity(&mut laptop).await;
    let mut phone = Raw::login(server.addr).await;
    phone.cmd("ENABLE QRESYNC").await;
    let r = phone.cmd("SELECT INBOX").await;
    let known_modseq = number_after(&r, "[HIGHESTMODSEQ");
    phone.cmd("LOGOUT").await;

    // While the phone is away: flag 1, expunge 3 and 5, deliver a new one.
    laptop.cmd("SELECT INBOX").await;
    laptop.cmd("STORE 1 +FLAGS (\\Flagged)").await;
    laptop.cmd("STORE 3,5 +FLAGS (\\Deleted)").await;
    laptop.cmd("EXPUNGE").await;
    append(&mut laptop, "INBOX", &message("new", "x")).await;

    let mut phone = Raw::login(server.addr).await;
    phone.cmd("ENABLE QRESYNC").await;
    let r = phone.cmd(&format!("SELECT INBOX (QRESYNC ({validity} {known_modseq} 1:6))")).await;
    assert!(r.last().unwrap().starts_with("T OK"), "{r:?}");
    assert!(has(&r, "* VANISHED (EARLIER) 3,5"), "{r:?}");
    assert!(has(&r, "* 1 FETCH (UID 1 FLAGS (\\Flagged) MODSEQ ("), "{r:?}");
    assert!(has(&r, "* 5 EXISTS"), "4 left of 6, plus the new one: {r:?}");
    assert!(has(&r, "(UID 7 FLAGS () MODSEQ ("), "the new message is reported too: {r:?}");

    // A wrong UIDVALIDITY: the client's cache is useless; no VANISHED.
    let mut other = Raw::login(server.addr).await;
    other.cmd("ENABLE QRESYNC").await;
    let r = other.cmd(&format!("SELECT INBOX (QRESYNC ({} {known_modseq}))", validity + 1)).await;
    assert!(!has(&r, "VANISHED"), "{r:?}");

    // UID FETCH … (CHANGEDSINCE m VANISHED) gives the same answer (§3.2.6).
    let r = phone.cmd(&format!("UID FETCH 1:* (FLAGS) (CHANGEDSINCE {known_modseq} VANISHED)")).await;
    assert!(has(&r, "* VANISHED (EARLIER) 3,5"), "{r:?}");
    assert!(has(&r, "FETCH (UID 1 FLAGS (\\Flagged) MODSEQ ("), "{r:?}");
    assert!(!has(&r, "(UID 2 "), "unchanged messages are not sent: {r:?}");
}

/// After tombstones were pruned, QRESYNC is still complete: every known UID
/// that no longer exists is reported, never silently fewer.
#[tokio::test]
async fn qresync_after_tombstone_pruning_reports_every_missing_uid() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    for i in 0..8 {
        append(&mut raw, "INBOX", &message(&format!("p{i}"), "x")).await;
    }
    let validity = uidvalidity(&mut raw).await;
    raw.cmd("ENABLE QRESYNC").await;
    let r = raw.cmd("SELECT INBOX").await;
    let known = number_after(&r, "[HIGHESTMODSEQ");
    raw.cmd("STORE 2,4,6 +FLAGS.SILENT (\\Deleted)").await;
    raw.cmd("EXPUNGE").await;
    raw.cmd("UID STORE 7 +FLAGS.SILENT (\\Deleted)").await;
    raw.cmd("EXPUNGE").await;

    // Prune every tombstone (as the hourly job does after the retention time).
    let (id, _) = server.store.password_hash(common::USER).unwrap().unwrap();
    let account = server.store.account(id).unwrap();
    assert_eq!(account.prune_tombstones(chrono::Utc::now().timestamp() + 10).await.unwrap(), 4);

    let mut phone = Raw::login(server.addr).await;
    phone.cmd("ENABLE QRESYNC").await;
    let r = phone.cmd(&format!("SELECT INBOX (QRESYNC ({validity} {known}))")).await;
    assert!(has(&r, "* VANISHED (EARLIER) 2,4,6:7"), "{r:?}");
    // seq-match-data is accepted; the answer stays complete without needing it.
    let mut phone3 = Raw::login(server.addr).await;
    phone3.cmd("ENABLE QRESYNC").await;
    let r = phone3.cmd(&format!("SELECT INBOX (QRESYNC ({validity} {known} 1:8 (1:8 1:8)))")).await;
    assert!(r.last().unwrap().starts_with("T OK"), "{r:?}");
    assert!(has(&r, "* VANISHED (EARLIER) 2,4,6:7"), "{r:?}");
    // Known UIDs limit the answer.
    let mut phone2 = Raw::login(server.addr).await;
    phone2.cmd("ENABLE QRESYNC").await;
    let r = phone2.cmd(&format!("SELECT INBOX (QRESYNC ({validity} {known} 5:8))")).await;
    assert!(has(&r, "* VANISHED (EARLIER) 6:7"), "{r:?}");
}

#[tokio::test]
async fn qresync_after_mailbox_recreated_sends_no_vanished() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    raw.cmd("CREATE Box").await;
    append(&mut raw, "Box", &message("r", "x")).await;
    let r = raw.cmd("STATUS Box (UIDVALIDITY HIGHESTMODSEQ)").await;
    let validity = number_after(&r, "UIDVALIDITY");
    let modseq = number_after(&r, "HIGHESTMODSEQ");
    raw.cmd("DELETE Box").await;
    raw.cmd("CREATE Box").await;
    raw.cmd("ENABLE QRESYNC").await;
    let r = raw.cmd(&format!("SELECT Box (QRESYNC ({validity} {modseq}))")).await;
    assert!(r.last().unwrap().starts_with("T OK"), "{r:?}");
    assert_ne!(number_after(&r, "[UIDVALIDITY"), validity, "a recreated mailbox has a new UIDVALIDITY");
    assert!(!has(&r, "VANISHED"), "{r:?}");
}

#[tokio::test]
async fn other_sessions_flag_changes_carry_modseq() {
    let server = common::start().await;
    let mut a = Raw::login(server.addr).await;
    let mut b = Raw::login(server.addr).await;
    append(&mut a, "INBOX", &message("m", "x")).await;
    a.cmd("ENABLE CONDSTORE").await;
    a.cmd("SELECT INBOX").await;
    b.cmd("SELECT INBOX").await;
    b.cmd("STORE 1 +FLAGS (\\Seen)").await;
    let r = a.cmd("NOOP").await;
    assert!(has(&r, "* 1 FETCH (UID 1 FLAGS (\\Seen \\Recent) MODSEQ ("), "{r:?}");
}

#[tokio::test]
async fn per_ip_connection_cap_says_bye() {
    let server = common::start_with(|c| c.limits.max_connections_per_ip = 2).await;
    let _a = Raw::connect(server.addr).await;
    let _b = Raw::connect(server.addr).await;
    let tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let mut r = tokio::io::BufReader::new(tcp);
    let mut l = String::new();
    tokio::io::AsyncBufReadExt::read_line(&mut r, &mut l).await.unwrap();
    assert!(l.starts_with("* BYE"), "{l}");
    // A place frees up when a connection ends.
    drop(_a);
    let mut ok = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        let mut r = tokio::io::BufReader::new(tcp);
        let mut l = String::new();
        tokio::io::AsyncBufReadExt::read_line(&mut r, &mut l).await.unwrap();
        if l.starts_with("* OK") {
            ok = true;
            break;
        }
    }
    assert!(ok, "a freed place can be used again");
}

#[tokio::test]
async fn per_account_connection_cap_says_no_limit() {
    let server = common::start_with(|c| c.limits.max_connections_per_account = 2).await;
    let a = Raw::login(server.addr).await;
    let _b = Raw::login(server.addr).await;
    let mut c = Raw::connect(server.addr).await;
    let r = c.cmd(&format!("LOGIN {} \"{}\"", common::USER, common::PASSWORD)).await;
    assert!(r.last().unwrap().starts_with("T NO [LIMIT]"), "{r:?}");
    drop(a);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let r = c.cmd(&format!("LOGIN {} \"{}\"", common::USER, common::PASSWORD)).await;
    assert!(r.last().unwrap().starts_with("T OK"), "{r:?}");
}

#[tokio::test]
async fn default_caps_fit_five_devices_with_five_connections_behind_one_nat() {
    let server = common::start().await;
    let mut sessions = Vec::new();
    for _ in 0..25 {
        sessions.push(Raw::login(server.addr).await);
    }
    for s in &mut sessions {
        assert!(s.cmd("NOOP").await.last().unwrap().starts_with("T OK"));
    }
}

#[tokio::test]
async fn idle_sends_keepalives() {
    let server = common::start_with(|c| c.sync.idle_keepalive = 1).await;
    let mut raw = Raw::login(server.addr).await;
    raw.cmd("SELECT INBOX").await;
    raw.send(b"I IDLE\r\n").await;
    assert!(raw.line().await.starts_with("+ "));
    let l = raw.maybe_line(Duration::from_secs(3)).await;
    assert_eq!(l.as_deref(), Some("* OK Still here"));
    raw.send(b"DONE\r\n").await;
    let r = raw.until_tagged("I").await;
    assert!(r.last().unwrap().starts_with("I OK"), "{r:?}");
}
