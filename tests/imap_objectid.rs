//! OBJECTID (RFC 8474) and SAVEDATE (RFC 8514): stable MAILBOXID, EMAILID and
//! THREADID across RENAME, COPY, MOVE and restarts; save dates set when a
//! message enters a mailbox.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{append, message, Raw, TestServer};

fn has(lines: &[String], needle: &str) -> bool {
    lines.iter().any(|l| l.contains(needle))
}

fn line<'a>(lines: &'a [String], needle: &str) -> &'a str {
    lines.iter().find(|l| l.contains(needle)).unwrap_or_else(|| panic!("no {needle:?} in {lines:?}"))
}

/// The object id in `KEY (id)` of the first line containing `key`.
fn oid(lines: &[String], key: &str) -> String {
    let pat = format!("{key} (");
    let l = line(lines, &pat);
    let rest = &l[l.find(&pat).unwrap() + pat.len()..];
    let id: String = rest.chars().take_while(|c| *c != ')').collect();
    assert!(
        !id.is_empty() && id.len() <= 255 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
        "not an objectid: {id:?} in {l}"
    );
    id
}

/// Every `* n FETCH` line's `KEY (id)` value, by message, in order.
fn oids(lines: &[String], key: &str) -> Vec<String> {
    lines
        .iter()
        .filter(|l| l.starts_with("* ") && l.contains(" FETCH "))
        .map(|l| oid(std::slice::from_ref(l), key))
        .collect()
}

/// The quoted date-time after `SAVEDATE ` in a line, as Unix seconds.
fn savedate(l: &str) -> i64 {
    let rest = &l[l.find("SAVEDATE \"").unwrap_or_else(|| panic!("no SAVEDATE in {l}")) + 10..];
    let s = &rest[..rest.find('"').unwrap()];
    chrono::DateTime::parse_from_str(s, "%d-%b-%Y %H:%M:%S %z").unwrap_or_else(|e| panic!("{s}: {e}")).timestamp()
}

/// The same date in IMAP `date` form (`2-Jan-2024`), shifted by `days`.
fn imap_date(unix: i64, days: i64) -> String {
    chrono::DateTime::from_timestamp(unix + days * 86400, 0).unwrap().format("%-d-%b-%Y").to_string()
}

async fn count_of(raw: &mut Raw, key: impl AsRef<str>) -> u32 {
    let r = raw.cmd(&format!("SEARCH RETURN (COUNT) {}", key.as_ref())).await;
    let l = line(&r, "COUNT");
    l[l.find("COUNT ").unwrap() + 6..].split(' ').next().unwrap().parse().unwrap()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn reply(id: &str, in_reply_to: Option<&str>, references: Option<&str>, subject: &str) -> Vec<u8> {
    let mut m = format!(
        "From: Bob <bob@example.org>\r\nTo: Alice <alice@example.org>\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n"
    );
    if let Some(p) = in_reply_to {
        m.push_str(&format!("In-Reply-To: <{p}>\r\n"));
    }
    if let Some(r) = references {
        m.push_str(&format!("References: {r}\r\n"));
    }
    m.push_str("\r\nbody\r\n");
    m.into_bytes()
}

/// A server started again on the data directory of a stopped one.
struct Restarted {
    _dir: tempfile::TempDir,
    addr: SocketAddr,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

/// Stops `server` and starts a new one (new store handle, new database
/// connections) on its data directory.
async fn restart(mut server: TestServer) -> Restarted {
    let dir = std::mem::replace(&mut server.dir, tempfile::tempdir().unwrap());
    drop(server);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let config = common::imap_only_config();
    let store = store::Store::open(dir.path()).expect("reopen store");
    let (tls, _) = postfach::tls::load_or_generate(&config.tls, dir.path()).expect("tls");
    let srv = postfach::imap::Server::bind(config, store, tls).await.expect("bind");
    let addr = srv.imap_addr().expect("imap addr");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(srv.run(async move {
        let _ = rx.await;
    }));
    Restarted { _dir: dir, addr, _shutdown: tx }
}

#[tokio::test]
async fn capabilities_advertise_objectid_and_savedate() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    let r = raw.cmd("CAPABILITY").await;
    let caps = line(&r, "* CAPABILITY");
    assert!(caps.split(' ').any(|c| c == "OBJECTID"), "{caps}");
    assert!(caps.split(' ').any(|c| c == "SAVEDATE"), "{caps}");
}

/// RFC 8474 §4: MAILBOXID in CREATE's tagged OK (§4.1), on SELECT/EXAMINE
/// (§4.2), in STATUS and LIST-STATUS (§4.3); kept by RENAME; a recreated
/// mailbox gets a new one; two mailboxes never share one.
#[tokio::test]
async fn mailboxid_on_create_select_status_and_stable_across_rename() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    let r = raw.cmd("CREATE foo").await;
    assert!(r.last().unwrap().starts_with("T OK [MAILBOXID (F"), "{r:?}");
    let foo = oid(&r, "MAILBOXID");

    let r = raw.cmd("SELECT foo").await;
    assert!(has(&r, &format!("* OK [MAILBOXID ({foo})]")), "{r:?}");
    let r = raw.cmd("EXAMINE foo").await;
    assert!(has(&r, &format!("* OK [MAILBOXID ({foo})]")), "{r:?}");
    raw.cmd("UNSELECT").await;

    let r = raw.cmd("STATUS foo (MESSAGES MAILBOXID UIDNEXT)").await;
    assert!(has(&r, &format!("* STATUS \"foo\" (MESSAGES 0 UIDNEXT 1 MAILBOXID ({foo}))")), "{r:?}");
    let r = raw.cmd("STATUS INBOX (MAILBOXID)").await;
    let inbox = oid(&r, "MAILBOXID");
    assert_ne!(inbox, foo);
    // Numeric STATUS is unchanged when MAILBOXID is not asked for.
    let r = raw.cmd("STATUS foo (MESSAGES)").await;
    assert!(has(&r, "* STATUS \"foo\" (MESSAGES 0)"), "{r:?}");

    // RENAME keeps it (§4), for children too; another connection sees the same.
    raw.cmd("CREATE foo/kid").await;
    let kid = oid(&raw.cmd("STATUS foo/kid (MAILBOXID)").await, "MAILBOXID");
    let r = raw.cmd("RENAME foo bar").await;
    assert!(r.last().unwrap().starts_with("T OK"), "{r:?}");
    let mut other = Raw::login(server.addr).await;
    assert_eq!(oid(&other.cmd("STATUS bar (MAILBOXID)").await, "MAILBOXID"), foo);
    assert_eq!(oid(&other.cmd("STATUS bar/kid (MAILBOXID)").await, "MAILBOXID"), kid);
    let r = other.cmd("LIST \"\" \"bar*\" RETURN (STATUS (MAILBOXID MESSAGES))").await;
    assert!(has(&r, &format!("* STATUS \"bar\" (MESSAGES 0 MAILBOXID ({foo}))")), "{r:?}");
    assert!(has(&r, &format!("* STATUS \"bar/kid\" (MESSAGES 0 MAILBOXID ({kid}))")), "{r:?}");

    // A new mailbox under the old name, and a recreated one, get new ids.
    let r = raw.cmd("CREATE foo").await;
    let foo2 = oid(&r, "MAILBOXID");
    assert_ne!(foo2, foo);
    raw.cmd("DELETE bar/kid").await;
    raw.cmd("DELETE bar").await;
    let r = raw.cmd("CREATE bar").await;
    let bar2 = oid(&r, "MAILBOXID");
    assert!(![foo.as_str(), foo2.as_str(), kid.as_str(), inbox.as_str()].contains(&bar2.as_str()));

    // RENAME INBOX is "create a new mailbox and move the messages" (RFC 8474 §4).
    let r = raw.cmd("RENAME INBOX old-inbox").await;
    assert!(r.last().unwrap().starts_with("T OK"), "{r:?}");
    assert_eq!(oid(&raw.cmd("STATUS INBOX (MAILBOXID)").await, "MAILBOXID"), inbox);
    assert_ne!(oid(&raw.cmd("STATUS old-inbox (MAILBOXID)").await, "MAILBOXID"), inbox);
}

/// MAILBOXID, EMAILID, THREADID and SAVEDATE are stored: a server restarted
/// on the same data directory reports the same values.
#[tokio::test]
async fn object_ids_and_savedates_survive_a_restart() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    let foo = oid(&raw.cmd("CREATE foo").await, "MAILBOXID");
    let inbox = oid(&raw.cmd("STATUS INBOX (MAILBOXID)").await, "MAILBOXID");
    append(&mut raw, "INBOX", &message("a", "x")).await;
    append(&mut raw, "INBOX", &reply("b@example.org", Some("a@example.org"), None, "Re: a")).await;
    raw.cmd("SELECT INBOX").await;
    let before = raw.cmd("UID FETCH 1:* (EMAILID THREADID SAVEDATE)").await;
    raw.cmd("LOGOUT").await;

    let second = restart(server).await;
    let mut raw = Raw::login(second.addr).await;
    assert_eq!(oid(&raw.cmd("STATUS foo (MAILBOXID)").await, "MAILBOXID"), foo);
    let r = raw.cmd("SELECT INBOX").await;
    assert!(has(&r, &format!("* OK [MAILBOXID ({inbox})]")), "{r:?}");
    let after = raw.cmd("UID FETCH 1:* (EMAILID THREADID SAVEDATE)").await;
    let fetches =
        |v: &[String]| v.iter().filter(|l| l.starts_with("* ") && l.contains(" FETCH ")).cloned().collect::<Vec<_>>();
    assert_eq!(fetches(&before), fetches(&after));
    assert_eq!(fetches(&after).len(), 2);
}

/// RFC 8474 §5.1: every APPEND gets its own EMAILID; COPY and MOVE keep it
/// (and the THREADID, §5.2 "same THREADID for all messages with the same
/// EMAILID").
#[tokio::test]
async fn emailid_unique_per_append_and_kept_by_copy_and_move() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    // The same bytes twice are still two messages.
    append(&mut raw, "INBOX", &message("same", "x")).await;
    append(&mut raw, "INBOX", &message("same", "x")).await;
    append(&mut raw, "INBOX", &message("other", "y")).await;
    raw.cmd("SELECT INBOX").await;
    let r = raw.cmd("FETCH 1:3 (EMAILID THREADID)").await;
    let emails = oids(&r, "EMAILID");
    let threads = oids(&r, "THREADID");
    assert_eq!(emails.len(), 3, "{r:?}");
    assert!(emails.iter().all(|e| e.starts_with('M')), "{emails:?}");
    assert!(threads.iter().all(|t| t.starts_with('T')), "{threads:?}");
    assert!(emails[0] != emails[1] && emails[1] != emails[2] && emails[0] != emails[2], "{emails:?}");
    assert!(!threads.iter().any(|t| emails.contains(t)), "EMAILIDs and THREADIDs never collide");

    // COPY 1 → Archive: same EMAILID and THREADID.
    let r = raw.cmd("COPY 1 Archive").await;
    assert!(r.last().unwrap().starts_with("T OK [COPYUID"), "{r:?}");
    // MOVE 3 → Trash: same EMAILID and THREADID.
    let r = raw.cmd("MOVE 3 Trash").await;
    assert!(has(&r, "[COPYUID"), "{r:?}");
    let r = raw.cmd("EXAMINE Archive").await;
    assert!(r.last().unwrap().starts_with("T OK"), "{r:?}");
    let r = raw.cmd("FETCH 1 (EMAILID THREADID)").await;
    assert_eq!((oid(&r, "EMAILID"), oid(&r, "THREADID")), (emails[0].clone(), threads[0].clone()));
    raw.cmd("EXAMINE Trash").await;
    let r = raw.cmd("UID FETCH 1:* (EMAILID THREADID)").await;
    assert_eq!((oid(&r, "EMAILID"), oid(&r, "THREADID")), (emails[2].clone(), threads[2].clone()));
    // The source copy in INBOX keeps its id; MOVE of a copy keeps it again.
    raw.cmd("SELECT Archive").await;
    raw.cmd("MOVE 1 Junk").await;
    raw.cmd("EXAMINE Junk").await;
    assert_eq!(oid(&raw.cmd("FETCH 1 (EMAILID)").await, "EMAILID"), emails[0]);
    raw.cmd("EXAMINE INBOX").await;
    assert_eq!(oids(&raw.cmd("FETCH 1:* (EMAILID)").await, "EMAILID"), emails[..2].to_vec());
}

/// RFC 8474 §5.2: a reply (In-Reply-To or References naming a message of the
/// account, in any mailbox) shares its parent's THREADID; an unrelated
/// message gets its own; SEARCH THREADID / EMAILID find them (§6).
#[tokio::test]
async fn threadid_shared_by_replies_and_searchable() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    append(&mut raw, "INBOX", &reply("root@x", None, None, "root")).await;
    // Direct reply, in another mailbox (the user's sent reply).
    append(&mut raw, "Sent", &reply("r1@x", Some("root@x"), Some("<root@x>"), "Re: root")).await;
    // Reply to the reply, References only, back in INBOX.
    append(&mut raw, "INBOX", &reply("r2@x", None, Some("<root@x>\r\n <r1@x>"), "Re: Re: root")).await;
    // Unrelated, and one that refers to a message the account never had.
    append(&mut raw, "INBOX", &reply("other@x", None, None, "other")).await;
    append(&mut raw, "INBOX", &reply("orphan@x", Some("missing@x"), None, "Re: missing")).await;
    // MULTIAPPEND: a parent and its reply in one command share a thread too.
    let (p, c) = (reply("batch-p@x", None, None, "batch"), reply("batch-c@x", Some("batch-p@x"), None, "Re: batch"));
    raw.send(format!("A APPEND INBOX {{{}+}}\r\n", p.len()).as_bytes()).await;
    raw.send(&p).await;
    raw.send(format!(" {{{}+}}\r\n", c.len()).as_bytes()).await;
    raw.send(&c).await;
    raw.send(b"\r\n").await;
    let r = raw.until_tagged("A").await;
    assert!(r.last().unwrap().starts_with("A OK [APPENDUID"), "{r:?}");

    raw.cmd("SELECT INBOX").await;
    let r = raw.cmd("FETCH 1:* (EMAILID THREADID)").await;
    let (emails, threads) = (oids(&r, "EMAILID"), oids(&r, "THREADID"));
    assert_eq!(threads.len(), 6, "{r:?}");
    let (root, r2, other, orphan, bp, bc) = (0, 1, 2, 3, 4, 5);
    assert_eq!(threads[r2], threads[root], "reply via References shares the root's thread");
    assert_ne!(threads[other], threads[root]);
    assert_ne!(threads[orphan], threads[root]);
    assert_ne!(threads[orphan], threads[other]);
    assert_eq!(threads[bc], threads[bp]);
    assert_ne!(threads[bp], threads[root]);
    raw.cmd("EXAMINE Sent").await;
    let r = raw.cmd("FETCH 1 (THREADID)").await;
    assert_eq!(oid(&r, "THREADID"), threads[root], "In-Reply-To across mailboxes");

    raw.cmd("SELECT INBOX").await;
    let r = raw.cmd(&format!("SEARCH THREADID {}", threads[root])).await;
    assert!(has(&r, "* ESEARCH (TAG \"T\") ALL 1:2") || has(&r, "* SEARCH 1 2"), "{r:?}");
    let r = raw.cmd(&format!("UID SEARCH RETURN (ALL) EMAILID {}", emails[other])).await;
    assert!(has(&r, "ALL 3"), "{r:?}");
    let r = raw.cmd(&format!("SEARCH RETURN (COUNT) OR EMAILID {} THREADID {}", emails[orphan], threads[bp])).await;
    assert!(has(&r, "COUNT 3"), "{r:?}");
    // Ids are exact: another kind of id, or unknown ones, match nothing.
    let r = raw.cmd(&format!("SEARCH RETURN (COUNT) THREADID {}", emails[root])).await;
    assert!(has(&r, "COUNT 0"), "{r:?}");
    let r = raw.cmd("SEARCH RETURN (COUNT) EMAILID Mnope").await;
    assert!(has(&r, "COUNT 0"), "{r:?}");
    let r = raw.cmd("SEARCH EMAILID \"quoted\"").await;
    assert!(r.last().unwrap().starts_with("T BAD"), "{r:?}");
}

/// RFC 8514 §3, §4.2: SAVEDATE is when the message entered this mailbox (not
/// its INTERNALDATE); COPY and MOVE give the new copy a new save date and
/// leave the source's alone.
#[tokio::test]
async fn savedate_is_set_on_append_and_renewed_by_copy_and_move() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    let msg = message("old", "x");
    raw.send(format!("A APPEND INBOX \"01-Jan-2020 10:00:00 +0100\" {{{}+}}\r\n", msg.len()).as_bytes()).await;
    raw.send(&msg).await;
    raw.send(b"\r\n").await;
    assert!(raw.until_tagged("A").await.last().unwrap().starts_with("A OK"));
    raw.cmd("SELECT INBOX").await;
    let r = raw.cmd("FETCH 1 (INTERNALDATE SAVEDATE)").await;
    let l = line(&r, "* 1 FETCH");
    assert!(l.contains("INTERNALDATE \"01-Jan-2020 10:00:00 +0100\""), "{l}");
    assert!(l.contains(" +0000\""), "save dates are reported in UTC: {l}");
    let saved = savedate(l);
    assert!((now() - saved).abs() <= 5, "SAVEDATE is now, not INTERNALDATE: {l}");

    // One second later, COPY and MOVE: the copies are saved later.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    raw.cmd("COPY 1 Archive").await;
    let r = raw.cmd("FETCH 1 (SAVEDATE)").await;
    assert_eq!(savedate(line(&r, "SAVEDATE")), saved, "the source keeps its save date");
    raw.cmd("SELECT Archive").await;
    let copied = savedate(line(&raw.cmd("FETCH 1 (SAVEDATE)").await, "SAVEDATE"));
    assert!(copied > saved && (now() - copied).abs() <= 5, "{copied} vs {saved}");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    raw.cmd("MOVE 1 Trash").await;
    raw.cmd("SELECT Trash").await;
    let r = raw.cmd("FETCH 1 (SAVEDATE INTERNALDATE)").await;
    let moved = savedate(line(&r, "SAVEDATE"));
    assert!(moved > copied, "{moved} vs {copied}");
    assert!(has(&r, "INTERNALDATE \"01-Jan-2020 10:00:00 +0100\""), "INTERNALDATE is kept: {r:?}");
    // STORE does not touch it.
    raw.cmd("STORE 1 +FLAGS (\\Seen)").await;
    assert_eq!(savedate(line(&raw.cmd("FETCH 1 (SAVEDATE)").await, "SAVEDATE")), moved);
}

/// RFC 8514 §4.3: SAVEDBEFORE / SAVEDON / SAVEDSINCE compare the save date's
/// day; SAVEDATESUPPORTED matches every message (every mailbox keeps save
/// dates).
#[tokio::test]
async fn search_by_savedate() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    for i in 0..2 {
        let msg = message(&format!("s{i}"), "x");
        raw.send(format!("A APPEND INBOX \"01-Jan-2020 10:00:00 +0000\" {{{}+}}\r\n", msg.len()).as_bytes()).await;
        raw.send(&msg).await;
        raw.send(b"\r\n").await;
        assert!(raw.until_tagged("A").await.last().unwrap().starts_with("A OK"));
    }
    append(&mut raw, "INBOX", &message("s2", "x")).await;
    raw.cmd("SELECT INBOX").await;
    // "Today" as the server saw it (a test running across midnight UTC stays right).
    let saved = savedate(line(&raw.cmd("FETCH 1 (SAVEDATE)").await, "SAVEDATE"));
    let (today, yesterday, tomorrow) = (imap_date(saved, 0), imap_date(saved, -1), imap_date(saved, 1));
    assert_eq!(count_of(&mut raw, format!("SAVEDON {today}")).await, 3);
    assert_eq!(count_of(&mut raw, format!("SAVEDSINCE {today}")).await, 3);
    assert_eq!(count_of(&mut raw, format!("SAVEDSINCE {yesterday}")).await, 3);
    assert_eq!(count_of(&mut raw, format!("SAVEDSINCE {tomorrow}")).await, 0);
    assert_eq!(count_of(&mut raw, format!("SAVEDBEFORE {today}")).await, 0);
    assert_eq!(count_of(&mut raw, format!("SAVEDBEFORE {tomorrow}")).await, 3);
    assert_eq!(count_of(&mut raw, format!("SAVEDON {yesterday}")).await, 0);
    assert_eq!(count_of(&mut raw, "SAVEDATESUPPORTED").await, 3);
    assert_eq!(count_of(&mut raw, "NOT SAVEDATESUPPORTED").await, 0);
    // The internal date is a different thing: two messages claim 2020.
    assert_eq!(count_of(&mut raw, "BEFORE 1-Jan-2021").await, 2);
    assert_eq!(count_of(&mut raw, "SAVEDBEFORE 1-Jan-2021").await, 0);
    assert_eq!(count_of(&mut raw, format!("SAVEDON \"{today}\" SUBJECT s2")).await, 1);
    let r = raw.cmd("SEARCH SAVEDON 32-Jan-2020").await;
    assert!(r.last().unwrap().starts_with("T BAD"), "{r:?}");
}
