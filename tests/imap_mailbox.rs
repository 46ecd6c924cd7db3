//! Mailbox commands as a mail client uses them: CREATE, DELETE, RENAME,
//! SUBSCRIBE, UNSUBSCRIBE, LIST (with LIST-EXTENDED, LIST-STATUS,
//! SPECIAL-USE), LSUB, STATUS, NAMESPACE, SELECT, EXAMINE, CLOSE, UNSELECT,
//! ENABLE and ID (RFC 9051 §6.3, §6.4; RFC 5258, 5819, 6154, 5530, 2971).

mod common;

use futures::TryStreamExt;

use common::{append, message, Raw};

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

#[track_caller]
fn assert_no(lines: &[String]) {
    assert!(tagged(lines).starts_with("T NO"), "{lines:?}");
}

/// The `* LIST` line for exactly this mailbox (quoted or INBOX atom).
fn list_line<'a>(lines: &'a [String], wire: &str) -> Option<&'a str> {
    let quoted = format!(" \"/\" \"{wire}\"");
    let atom = format!(" \"/\" {wire}");
    lines
        .iter()
        .filter(|l| l.starts_with("* LIST "))
        .find(|l| {
            let base = l.split(" (\"CHILDINFO\"").next().unwrap();
            base.ends_with(&quoted) || base.ends_with(&atom)
        })
        .map(|s| s.as_str())
}

fn listed_names(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .filter(|l| l.starts_with("* LIST ") || l.starts_with("* LSUB "))
        .map(|l| {
            let base = l.split(" (\"CHILDINFO\"").next().unwrap();
            let after = base.split_once(") \"/\" ").map(|x| x.1).unwrap_or("");
            after.trim_matches('"').to_string()
        })
        .collect()
}

/// The numbers of a `* STATUS name (K v K v …)` line, by key.
fn status_items(lines: &[String]) -> std::collections::HashMap<String, u64> {
    let line = lines.iter().find(|l| l.starts_with("* STATUS ")).expect("a STATUS response");
    let inner = &line[line.rfind('(').unwrap() + 1..line.rfind(')').unwrap()];
    let toks: Vec<&str> = inner.split_whitespace().collect();
    toks.chunks(2).map(|c| (c[0].to_ascii_uppercase(), c[1].parse().unwrap())).collect()
}

fn code_number(lines: &[String], code: &str) -> u32 {
    let l = lines.iter().find(|l| l.contains(&format!("[{code} "))).unwrap_or_else(|| panic!("no {code}: {lines:?}"));
    let rest = &l[l.find(&format!("[{code} ")).unwrap() + code.len() + 2..];
    rest[..rest.find(']').unwrap()].parse().unwrap()
}

async fn uidvalidity(raw: &mut Raw, mailbox: &str) -> u64 {
    let r = raw.cmd(&format!("STATUS {mailbox} (UIDVALIDITY)")).await;
    assert_ok(&r);
    status_items(&r)["UIDVALIDITY"]
}

// ----- default mailboxes, LIST -----

#[tokio::test]
async fn new_account_has_special_use_mailboxes_all_subscribed() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    let r = raw.cmd("LIST \"\" \"*\"").await;
    assert_ok(&r);
    let inbox = list_line(&r, "INBOX").unwrap_or_else(|| panic!("no INBOX: {r:?}"));
    assert!(inbox.starts_with("* LIST (") && !inbox.contains("\\Noselect"), "{inbox}");
    for (name, attr) in
        [("Sent", "\\Sent"), ("Drafts", "\\Drafts"), ("Trash", "\\Trash"), ("Junk", "\\Junk"), ("Archive", "\\Archive")]
    {
        let l = list_line(&r, name).unwrap_or_else(|| panic!("no {name}: {r:?}"));
        assert!(l.contains(attr), "{l}");
        assert!(l.contains("\\HasNoChildren"), "{l}");
    }
    // Hierarchy separator is "/".
    assert!(r.iter().filter(|l| l.starts_with("* LIST")).all(|l| l.contains(") \"/\" ")), "{r:?}");

    let r = raw.cmd("LIST (SUBSCRIBED) \"\" \"*\"").await;
    assert_ok(&r);
    for name in ["INBOX", "Sent", "Drafts", "Trash", "Junk", "Archive"] {
        let l = list_line(&r, name).unwrap_or_else(|| panic!("{name} not subscribed: {r:?}"));
        assert!(l.contains("\\Subscribed"), "{l}");
    }

    // The independent parser sees the same six, with their attributes.
    let mut client = common::client(server.addr).await;
    let names: Vec<_> = client.list(Some(""), Some("*")).await.unwrap().try_collect().await.unwrap();
    let mut got: Vec<String> = names.iter().map(|n| n.name().to_string()).collect();
    got.sort();
    assert_eq!(got, ["Archive", "Drafts", "INBOX", "Junk", "Sent", "Trash"]);
    for n in &names {
        assert_eq!(n.delimiter(), Some("/"));
        if n.name() == "Trash" {
            let attrs = format!("{:?}", n.attributes());
            assert!(attrs.contains("Trash"), "{attrs}");
        }
    }
}

#[tokio::test]
async fn list_empty_pattern_returns_hierarchy_delimiter() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    let r = raw.cmd("LIST \"\" \"\"").await;
    assert_ok(&r);
    assert_eq!(r[0], "* LIST (\\Noselect) \"/\" \"\"", "{r:?}");
    assert_eq!(r.len(), 2, "{r:?}");
}

#[tokio::test]
async fn list_percent_matches_one_level_star_all_levels() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    assert_ok(&raw.cmd("CREATE a/b/c").await);

    let r = raw.cmd("LIST \"\" \"%\"").await;
    let names = listed_names(&r);
    assert!(names.contains(&"a".to_string()), "{r:?}");
    assert!(!names.iter().any(|n| n.contains('/')), "{r:?}");
    assert!(list_line(&r, "a").unwrap().contains("\\HasChildren"), "{r:?}");

    let r = raw.cmd("LIST \"\" \"a/%\"").await;
    assert_eq!(listed_names(&r), ["a/b"], "{r:?}");

    let r = raw.cmd("LIST \"a/\" \"%\"").await;
    assert_eq!(listed_names(&r), ["a/b"], "reference + pattern: {r:?}");

    let r = raw.cmd("LIST \"\" \"a*\"").await;
    assert_eq!(listed_names(&r), ["a", "a/b", "a/b/c"], "{r:?}");
    assert!(list_line(&r, "a/b/c").unwrap().contains("\\HasNoChildren"), "{r:?}");

    let r = raw.cmd("LIST \"\" \"*\"").await;
    let names = listed_names(&r);
    for n in ["INBOX", "a", "a/b", "a/b/c", "Sent"] {
        assert!(names.contains(&n.to_string()), "{n}: {r:?}");
    }
    // INBOX matches case-insensitively.
    let r = raw.cmd("LIST \"\" \"inbox\"").await;
    assert_eq!(listed_names(&r), ["INBOX"], "{r:?}");
}

#[tokio::test]
async fn list_return_children_special_use_subscribed_status() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    let msg = message("status", "hello");
    append(&mut raw, "INBOX", &msg).await;
    assert_ok(&raw.cmd("CREATE Parent/Kid").await);
    let r = raw.cmd("LIST \"\" \"*\" RETURN (CHILDREN SPECIAL-USE SUBSCRIBED STATUS (MESSAGES UNSEEN SIZE))").await;
    assert_ok(&r);
    let inbox = list_line(&r, "INBOX").unwrap_or_else(|| panic!("{r:?}"));
    assert!(inbox.contains("\\HasNoChildren") && inbox.contains("\\Subscribed"), "{inbox}");
    let sent = list_line(&r, "Sent").unwrap();
    assert!(sent.contains("\\Sent") && sent.contains("\\Subscribed"), "{sent}");
    assert!(list_line(&r, "Parent").unwrap().contains("\\HasChildren"), "{r:?}");
    // RFC 5819 §1: the STATUS follows the LIST of its mailbox.
    let i = r.iter().position(|l| l.as_str() == inbox).unwrap();
    assert_eq!(r[i + 1], format!("* STATUS INBOX (MESSAGES 1 UNSEEN 1 SIZE {})", msg.len()), "{r:?}");
    assert!(has(&r, "* STATUS \"Sent\" (MESSAGES 0 UNSEEN 0 SIZE 0)"), "{r:?}");
}

#[tokio::test]
async fn list_special_use_selection_lists_only_special_mailboxes() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    assert_ok(&raw.cmd("CREATE Plain").await);
    let r = raw.cmd("LIST (SPECIAL-USE) \"\" \"*\"").await;
    assert_ok(&r);
    let mut names = listed_names(&r);
    names.sort();
    assert_eq!(names, ["Archive", "Drafts", "Junk", "Sent", "Trash"], "{r:?}");
}

#[tokio::test]
async fn create_with_special_use_shows_in_list() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    assert_ok(&raw.cmd("CREATE Starred (USE (\\Flagged))").await);
    let r = raw.cmd("LIST \"\" \"Starred\"").await;
    assert!(list_line(&r, "Starred").unwrap_or_else(|| panic!("{r:?}")).contains("\\Flagged"), "{r:?}");
    let r = raw.cmd("LIST (SPECIAL-USE) \"\" \"*\"").await;
    assert!(listed_names(&r).contains(&"Starred".to_string()), "{r:?}");
}

#[tokio::test]
async fn list_recursivematch_reports_childinfo_for_unsubscribed_parent() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    assert_ok(&raw.cmd("CREATE Lists/rust").await);
    raw.cmd("UNSUBSCRIBE Lists").await;
    raw.cmd("UNSUBSCRIBE Lists/rust").await;
    assert_ok(&raw.cmd("SUBSCRIBE Lists/rust").await);
    let r = raw.cmd("LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"%\"").await;
    assert_ok(&r);
    // RFC 5258 §3.5: the parent matches % and has a subscribed child.
    let l = r.iter().find(|l| l.contains("\"Lists\"")).unwrap_or_else(|| panic!("{r:?}"));
    assert!(l.ends_with("\"Lists\" (\"CHILDINFO\" (\"SUBSCRIBED\"))"), "{l}");
    assert!(!l.contains("\\Subscribed"), "{l}");
    assert!(!has(&r, "Lists/rust"), "{r:?}");
    // §3.5: no redundant CHILDINFO when the subscribed child is listed too.
    let r = raw.cmd("LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (Lists Lists/rust)").await;
    assert_ok(&r);
    assert!(list_line(&r, "Lists/rust").is_some(), "{r:?}");
    assert!(list_line(&r, "Lists").is_none(), "{r:?}");
    let r = raw.cmd("LIST (SUBSCRIBED) \"\" \"*\"").await;
    assert!(list_line(&r, "Lists/rust").unwrap_or_else(|| panic!("{r:?}")).contains("\\Subscribed"));
    assert!(list_line(&r, "Lists").is_none(), "{r:?}");
}

#[tokio::test]
async fn lsub_lists_subscriptions() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    assert_ok(&raw.cmd("CREATE News").await);
    raw.cmd("UNSUBSCRIBE News").await;
    let r = raw.cmd("LSUB \"\" \"*\"").await;
    assert_ok(&r);
    let mut names = listed_names(&r);
    names.sort();
    assert_eq!(names, ["Archive", "Drafts", "INBOX", "Junk", "Sent", "Trash"], "{r:?}");
    assert!(has(&r, "* LSUB () \"/\" \"Sent\""), "{r:?}");
    assert_ok(&raw.cmd("SUBSCRIBE News").await);
    let r = raw.cmd("LSUB \"\" \"N%\"").await;
    assert_eq!(listed_names(&r), ["News"], "{r:?}");

    // RFC 3501 §6.3.9: "foo/bar" subscribed, "foo" not: `%` MUST return
    // "foo" flagged \Noselect, and not "foo/bar".
    assert_ok(&raw.cmd("SUBSCRIBE probe/a/b").await);
    let r = raw.cmd("LSUB \"\" \"probe/%\"").await;
    assert_ok(&r);
    assert_eq!(listed_names(&r), ["probe/a"], "{r:?}");
    assert!(has(&r, "* LSUB (\\Noselect) \"/\" \"probe/a\""), "{r:?}");
    let r = raw.cmd("LSUB \"\" \"%\"").await;
    assert!(has(&r, "* LSUB (\\Noselect) \"/\" \"probe\""), "{r:?}");
    assert_ok(&raw.cmd("UNSUBSCRIBE probe/a/b").await);

    let mut client = common::client(server.addr).await;
    let subs: Vec<_> = client.lsub(Some(""), Some("*")).await.unwrap().try_collect().await.unwrap();
    assert_eq!(subs.len(), 7);
}

// ----- CREATE, DELETE, RENAME -----

#[tokio::test]
async fn create_makes_missing_parents_and_refuses_existing() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    assert_ok(&raw.cmd("CREATE Work/2024/Q1").await);
    let r = raw.cmd("LIST \"\" \"Work*\"").await;
    assert_eq!(listed_names(&r), ["Work", "Work/2024", "Work/2024/Q1"], "{r:?}");
    // The parents are real, selectable mailboxes.
    assert!(!has(&r, "\\Noselect"), "{r:?}");
    assert_ok(&raw.cmd("SELECT Work/2024").await);

    let r = raw.cmd("CREATE Work/2024/Q1").await;
    assert!(tagged(&r).starts_with("T NO [ALREADYEXISTS]"), "{r:?}");
    let r = raw.cmd("CREATE Sent").await;
    assert!(tagged(&r).starts_with("T NO [ALREADYEXISTS]"), "{r:?}");
    // A trailing separator names the same mailbox.
    let r = raw.cmd("CREATE Work/").await;
    assert_no(&r);
    assert_ok(&raw.cmd("CREATE Play/").await);
    let r = raw.cmd("LIST \"\" \"Play*\"").await;
    assert_eq!(listed_names(&r), ["Play"], "{r:?}");

    let mut client = common::client(server.addr).await;
    client.create("ViaClient/Sub").await.unwrap();
    assert!(client.create("ViaClient/Sub").await.is_err());
}

#[tokio::test]
async fn create_inbox_in_any_case_is_refused() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    for name in ["INBOX", "inbox", "InBoX"] {
        let r = raw.cmd(&format!("CREATE {name}")).await;
        assert_no(&r);
    }
    let r = raw.cmd("LIST \"\" \"*\"").await;
    assert_eq!(listed_names(&r).iter().filter(|n| n.eq_ignore_ascii_case("inbox")).count(), 1, "{r:?}");
}

#[tokio::test]
async fn delete_rules() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    let r = raw.cmd("DELETE INBOX").await;
    assert_no(&r);
    let r = raw.cmd("DELETE inbox").await;
    assert_no(&r);

    assert_ok(&raw.cmd("CREATE Parent/Child").await);
    let r = raw.cmd("DELETE Parent").await;
    assert!(tagged(&r).starts_with("T NO [HASCHILDREN]"), "{r:?}");

    let r = raw.cmd("DELETE Nowhere").await;
    assert!(tagged(&r).starts_with("T NO [NONEXISTENT]"), "{r:?}");

    assert_ok(&raw.cmd("DELETE Parent/Child").await);
    assert_ok(&raw.cmd("DELETE Parent").await);
    let r = raw.cmd("LIST \"\" \"Parent*\"").await;
    assert!(listed_names(&r).is_empty(), "{r:?}");
    // A deleted special-use mailbox is gone too.
    assert_ok(&raw.cmd("DELETE Junk").await);
    let r = raw.cmd("STATUS Junk (MESSAGES)").await;
    assert_no(&r);
}

#[tokio::test]
async fn delete_takes_messages_with_it() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    assert_ok(&raw.cmd("CREATE Box").await);
    append(&mut raw, "Box", &message("a", "x")).await;
    assert_ok(&raw.cmd("DELETE Box").await);
    assert_ok(&raw.cmd("CREATE Box").await);
    let r = raw.cmd("STATUS Box (MESSAGES)").await;
    assert_eq!(status_items(&r)["MESSAGES"], 0, "{r:?}");
}

#[tokio::test]
async fn uidvalidity_differs_after_delete_and_recreate() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    assert_ok(&raw.cmd("CREATE Again").await);
    let first = uidvalidity(&mut raw, "Again").await;
    assert_ok(&raw.cmd("DELETE Again").await);
    assert_ok(&raw.cmd("CREATE Again").await);
    let second = uidvalidity(&mut raw, "Again").await;
    assert_ne!(first, second);
    assert!(second > 0);
}

#[tokio::test]
async fn rename_moves_children() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    assert_ok(&raw.cmd("CREATE Old/Child/Grandchild").await);
    append(&mut raw, "Old/Child", &message("kid", "x")).await;
    assert_ok(&raw.cmd("RENAME Old New").await);
    let r = raw.cmd("LIST \"\" \"*\"").await;
    let names = listed_names(&r);
    for n in ["New", "New/Child", "New/Child/Grandchild"] {
        assert!(names.contains(&n.to_string()), "{n}: {r:?}");
    }
    assert!(!names.iter().any(|n| n.starts_with("Old")), "{r:?}");
    let r = raw.cmd("STATUS New/Child (MESSAGES)").await;
    assert_eq!(status_items(&r)["MESSAGES"], 1, "{r:?}");
    // Renaming into a new hierarchy creates the missing parents.
    assert_ok(&raw.cmd("RENAME New/Child/Grandchild Deep/Down").await);
    let r = raw.cmd("LIST \"\" \"Deep*\"").await;
    assert_eq!(listed_names(&r), ["Deep", "Deep/Down"], "{r:?}");
}

#[tokio::test]
async fn rename_inbox_moves_messages_and_leaves_inbox_empty() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    append(&mut raw, "INBOX", &message("one", "x")).await;
    append(&mut raw, "INBOX", &message("two", "x")).await;
    assert_ok(&raw.cmd("RENAME INBOX Saved").await);
    let r = raw.cmd("STATUS Saved (MESSAGES)").await;
    assert_eq!(status_items(&r)["MESSAGES"], 2, "{r:?}");
    let r = raw.cmd("STATUS INBOX (MESSAGES)").await;
    assert_eq!(status_items(&r)["MESSAGES"], 0, "{r:?}");
    let r = raw.cmd("SELECT INBOX").await;
    assert_ok(&r);
    assert!(has(&r, "* 0 EXISTS"), "{r:?}");
    let r = raw.cmd("LIST \"\" \"*\"").await;
    assert!(list_line(&r, "INBOX").is_some() && list_line(&r, "Saved").is_some(), "{r:?}");
    // New mail still lands in INBOX.
    append(&mut raw, "INBOX", &message("three", "x")).await;
    let r = raw.cmd("STATUS INBOX (MESSAGES)").await;
    assert_eq!(status_items(&r)["MESSAGES"], 1, "{r:?}");
}

#[tokio::test]
async fn rename_to_existing_or_from_missing_is_refused() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    let r = raw.cmd("RENAME Sent Drafts").await;
    assert_no(&r);
    assert!(tagged(&r).contains("[ALREADYEXISTS]"), "{r:?}");
    let r = raw.cmd("RENAME Missing Other").await;
    assert_no(&r);
    let r = raw.cmd("RENAME Sent INBOX").await;
    assert_no(&r);
    let r = raw.cmd("LIST \"\" \"*\"").await;
    assert!(list_line(&r, "Sent").is_some() && list_line(&r, "Drafts").is_some(), "{r:?}");

    let mut client = common::client(server.addr).await;
    client.rename("Archive", "Archive2").await.unwrap();
    assert!(client.rename("Archive", "Elsewhere").await.is_err());
}

// ----- SUBSCRIBE, UNSUBSCRIBE -----

#[tokio::test]
async fn subscribe_nonexistent_name_is_listed_nonexistent() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    assert_ok(&raw.cmd("SUBSCRIBE Ghost").await);
    let r = raw.cmd("LIST (SUBSCRIBED) \"\" \"*\"").await;
    let l = list_line(&r, "Ghost").unwrap_or_else(|| panic!("{r:?}"));
    assert!(l.contains("\\NonExistent") && l.contains("\\Subscribed"), "{l}");
    // A plain LIST does not show it.
    let r = raw.cmd("LIST \"\" \"*\"").await;
    assert!(list_line(&r, "Ghost").is_none(), "{r:?}");
    let r = raw.cmd("LSUB \"\" \"*\"").await;
    assert!(listed_names(&r).contains(&"Ghost".to_string()), "{r:?}");

    assert_ok(&raw.cmd("UNSUBSCRIBE Ghost").await);
    let r = raw.cmd("LIST (SUBSCRIBED) \"\" \"*\"").await;
    assert!(list_line(&r, "Ghost").is_none(), "{r:?}");
}

#[tokio::test]
async fn unsubscribe_keeps_the_mailbox() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    assert_ok(&raw.cmd("UNSUBSCRIBE Junk").await);
    let r = raw.cmd("LIST (SUBSCRIBED) \"\" \"*\"").await;
    assert!(list_line(&r, "Junk").is_none(), "{r:?}");
    let r = raw.cmd("LIST \"\" \"*\" RETURN (SUBSCRIBED)").await;
    let junk = list_line(&r, "Junk").unwrap_or_else(|| panic!("{r:?}"));
    assert!(!junk.contains("\\Subscribed"), "{junk}");
    assert!(list_line(&r, "Trash").unwrap().contains("\\Subscribed"), "{r:?}");

    let mut client = common::client(server.addr).await;
    client.subscribe("Junk").await.unwrap();
    client.unsubscribe("Trash").await.unwrap();
    let r = raw.cmd("LSUB \"\" \"*\"").await;
    let names = listed_names(&r);
    assert!(names.contains(&"Junk".to_string()) && !names.contains(&"Trash".to_string()), "{r:?}");
}

// ----- STATUS -----

#[tokio::test]
async fn status_reports_every_item() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    let a = message("a", "first");
    let b = message("b", "second message");
    let c = message("c", "third");
    append(&mut raw, "INBOX", &a).await;
    append(&mut raw, "INBOX", &b).await;
    let uid_c = append(&mut raw, "INBOX", &c).await;
    raw.cmd("SELECT INBOX").await;
    assert_ok(&raw.cmd("STORE 1 +FLAGS (\\Seen)").await);
    assert_ok(&raw.cmd("STORE 2 +FLAGS (\\Deleted)").await);
    raw.cmd("UNSELECT").await;
    let r = raw.cmd("STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE RECENT)").await;
    assert_ok(&r);
    assert!(r[0].starts_with("* STATUS INBOX ("), "{r:?}");
    let s = status_items(&r);
    assert_eq!(s["MESSAGES"], 3);
    assert_eq!(s["UIDNEXT"], u64::from(uid_c) + 1);
    assert!(s["UIDVALIDITY"] > 0);
    assert_eq!(s["UNSEEN"], 2);
    assert_eq!(s["DELETED"], 1);
    assert_eq!(s["SIZE"], (a.len() + b.len() + c.len()) as u64);
    assert_eq!(s["RECENT"], 0);

    let r = raw.cmd("STATUS Nowhere (MESSAGES)").await;
    assert!(tagged(&r).starts_with("T NO"), "{r:?}");

    let mut client = common::client(server.addr).await;
    let mb = client.status("INBOX", "(MESSAGES UIDNEXT UIDVALIDITY UNSEEN)").await.unwrap();
    assert_eq!(mb.exists, 3);
    assert_eq!(mb.uid_next, Some(uid_c + 1));
    assert_eq!(u64::from(mb.uid_validity.unwrap()), s["UIDVALIDITY"]);
    assert_eq!(mb.unseen, Some(2));
}

// ----- international names -----

#[tokio::test]
async fn non_ascii_names_are_modified_utf7_for_rev1_and_utf8_for_rev2() {
    let server = common::start().await;
    let mut rev1 = Raw::login(server.addr).await;
    // RFC 9051 §5.1.3 example: 日本語 is &ZeVnLIqe-.
    assert_ok(&rev1.cmd("CREATE &ZeVnLIqe-").await);
    let r = rev1.cmd("LIST \"\" \"*\"").await;
    assert!(list_line(&r, "&ZeVnLIqe-").is_some(), "{r:?}");
    let r = rev1.cmd("STATUS &ZeVnLIqe- (MESSAGES)").await;
    assert_ok(&r);
    assert!(r[0].starts_with("* STATUS \"&ZeVnLIqe-\" "), "{r:?}");

    let mut rev2 = Raw::login(server.addr).await;
    let r = rev2.cmd("ENABLE IMAP4rev2").await;
    assert!(has(&r, "* ENABLED IMAP4rev2"), "{r:?}");
    let r = rev2.cmd("LIST \"\" \"*\"").await;
    assert!(has(&r, "日本語"), "{r:?}");
    assert!(!has(&r, "&ZeVnLIqe-"), "{r:?}");
    // A UTF-8 name created by the IMAP4rev2 client …
    assert_ok(&rev2.cmd("CREATE \"Entwürfe\"").await);
    let r = rev2.cmd("SELECT \"日本語\"").await;
    assert_ok(&r);
    // … is modified UTF-7 for the IMAP4rev1 client (ü = U+00FC).
    let r = rev1.cmd("LIST \"\" \"Entw*\"").await;
    assert_eq!(listed_names(&r), ["Entw&APw-rfe"], "{r:?}");
    assert_ok(&rev1.cmd("SELECT Entw&APw-rfe").await);

    // The independent parser lists it as sent (modified UTF-7).
    let mut client = common::client(server.addr).await;
    let names: Vec<_> = client.list(Some(""), Some("*")).await.unwrap().try_collect().await.unwrap();
    assert!(names.iter().any(|n| n.name() == "&ZeVnLIqe-"), "{names:?}");
}

// ----- NAMESPACE, ENABLE, ID -----

#[tokio::test]
async fn namespace_is_personal_with_slash() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    let r = raw.cmd("NAMESPACE").await;
    assert_ok(&r);
    assert_eq!(r[0], "* NAMESPACE ((\"\" \"/\")) NIL NIL", "{r:?}");
}

#[tokio::test]
async fn enable_imap4rev2_is_acknowledged_once() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    let r = raw.cmd("ENABLE IMAP4rev2").await;
    assert_ok(&r);
    assert_eq!(r[0], "* ENABLED IMAP4rev2", "{r:?}");
    // Already enabled, unknown capabilities ignored (RFC 5161 §3.1).
    let r = raw.cmd("ENABLE IMAP4rev2 X-UNKNOWN").await;
    assert_ok(&r);
    // RFC 5161 §3.1: each ENABLED lists only what it newly enabled.
    assert_eq!(r[0].trim_end(), "* ENABLED", "{r:?}");
    // IMAP4rev2 SELECT: no RECENT response.
    let r = raw.cmd("SELECT INBOX").await;
    assert_ok(&r);
    assert!(!has(&r, "RECENT"), "{r:?}");
}

#[tokio::test]
async fn id_returns_postfach() {
    let server = common::start().await;
    let mut raw = Raw::connect(server.addr).await;
    // ID is valid in any state (RFC 2971 §3.1).
    let r = raw.cmd("ID (\"name\" \"test-client\" \"version\" \"1.0\")").await;
    assert_ok(&r);
    assert!(r[0].starts_with("* ID (\"name\" \"postfach\""), "{r:?}");
    let r = raw.cmd("ID NIL").await;
    assert_ok(&r);
    assert!(r[0].starts_with("* ID ("), "{r:?}");

    let mut client = common::client(server.addr).await;
    let id = client.id([("name", Some("async-imap"))]).await.unwrap().expect("ID params");
    assert_eq!(id.get("name").map(String::as_str), Some("postfach"));
}

// ----- SELECT, EXAMINE, CLOSE, UNSELECT -----

#[tokio::test]
async fn select_returns_everything_a_client_needs() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    let uid = append(&mut raw, "INBOX", &message("one", "x")).await;
    append(&mut raw, "INBOX", &message("two", "x")).await;
    let r = raw.cmd("SELECT INBOX").await;
    assert_ok(&r);
    assert!(tagged(&r).starts_with("T OK [READ-WRITE]"), "{r:?}");
    let flags = r.iter().find(|l| l.starts_with("* FLAGS (")).unwrap_or_else(|| panic!("{r:?}"));
    for f in ["\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft"] {
        assert!(flags.contains(f), "{flags}");
    }
    assert!(has(&r, "* 2 EXISTS"), "{r:?}");
    assert!(code_number(&r, "UIDVALIDITY") > 0);
    assert_eq!(code_number(&r, "UIDNEXT"), uid + 2);
    let perm = r.iter().find(|l| l.contains("[PERMANENTFLAGS (")).unwrap_or_else(|| panic!("{r:?}"));
    assert!(perm.contains("\\Seen") && perm.contains("\\*"), "{perm}");
    assert!(r.iter().any(|l| l.starts_with("* LIST (") && l.ends_with(" \"/\" INBOX")), "{r:?}");
    // An IMAP4rev1 client is told the first unseen message.
    assert!(has(&r, "[UNSEEN 1]"), "{r:?}");

    let mut client = common::client(server.addr).await;
    let mb = client.select("INBOX").await.unwrap();
    assert_eq!(mb.exists, 2);
    assert_eq!(mb.uid_next, Some(uid + 2));
    assert!(mb.uid_validity.is_some());
    assert!(mb.flags.len() >= 5, "{mb:?}");
    assert!(!mb.permanent_flags.is_empty(), "{mb:?}");
    let mb = client.select("Sent").await.unwrap();
    assert_eq!(mb.exists, 0);
}

#[tokio::test]
async fn examine_is_read_only() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    append(&mut raw, "INBOX", &message("one", "x")).await;
    let r = raw.cmd("EXAMINE INBOX").await;
    assert!(tagged(&r).starts_with("T OK [READ-ONLY]"), "{r:?}");
    assert!(has(&r, "* 1 EXISTS"), "{r:?}");

    let r = raw.cmd("FETCH 1 BODY[]").await;
    assert_ok(&r);
    assert!(!r[0].contains("\\Seen"), "{r:?}");
    let r = raw.cmd("FETCH 1 FLAGS").await;
    assert!(!has(&r, "\\Seen"), "EXAMINE must not set \\Seen: {r:?}");

    let r = raw.cmd("STORE 1 +FLAGS (\\Deleted)").await;
    assert_no(&r);
    let r = raw.cmd("EXPUNGE").await;
    assert_no(&r);
    let r = raw.cmd("MOVE 1 Trash").await;
    assert_no(&r);
    // CLOSE on a read-only mailbox expunges nothing.
    assert_ok(&raw.cmd("CLOSE").await);
    let r = raw.cmd("STATUS INBOX (MESSAGES UNSEEN)").await;
    let s = status_items(&r);
    assert_eq!((s["MESSAGES"], s["UNSEEN"]), (1, 1), "{r:?}");

    let mut client = common::client(server.addr).await;
    let mb = client.examine("INBOX").await.unwrap();
    assert_eq!(mb.exists, 1);
}

#[tokio::test]
async fn select_while_selected_sends_closed_first() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    assert_ok(&raw.cmd("SELECT INBOX").await);
    let r = raw.cmd("SELECT Sent").await;
    assert_ok(&r);
    assert!(r[0].starts_with("* OK [CLOSED]"), "{r:?}");
    assert_eq!(r.iter().filter(|l| l.contains("[CLOSED]")).count(), 1, "{r:?}");
    let r = raw.cmd("EXAMINE Drafts").await;
    assert!(r[0].starts_with("* OK [CLOSED]"), "{r:?}");
    // No CLOSED when nothing was selected.
    let mut other = Raw::login(server.addr).await;
    let r = other.cmd("SELECT INBOX").await;
    assert!(!has(&r, "[CLOSED]"), "{r:?}");
}

#[tokio::test]
async fn failed_select_leaves_no_mailbox_selected() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    append(&mut raw, "INBOX", &message("one", "x")).await;
    assert_ok(&raw.cmd("SELECT INBOX").await);
    let r = raw.cmd("SELECT Nowhere").await;
    assert_no(&r);
    assert!(tagged(&r).contains("[NONEXISTENT]"), "{r:?}");
    let r = raw.cmd("FETCH 1 FLAGS").await;
    assert!(tagged(&r).starts_with("T BAD"), "{r:?}");
    assert!(!has(&r, "* 1 FETCH"), "{r:?}");
}

#[tokio::test]
async fn close_expunges_deleted_silently() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    for i in 0..3 {
        append(&mut raw, "INBOX", &message(&format!("m{i}"), "x")).await;
    }
    raw.cmd("SELECT INBOX").await;
    assert_ok(&raw.cmd("STORE 2 +FLAGS.SILENT (\\Deleted)").await);
    let r = raw.cmd("CLOSE").await;
    assert_ok(&r);
    assert_eq!(r.len(), 1, "CLOSE sends no EXPUNGE: {r:?}");
    let r = raw.cmd("STATUS INBOX (MESSAGES DELETED)").await;
    let s = status_items(&r);
    assert_eq!((s["MESSAGES"], s["DELETED"]), (2, 0), "{r:?}");
    // Back in the authenticated state.
    let r = raw.cmd("FETCH 1 FLAGS").await;
    assert!(tagged(&r).starts_with("T BAD"), "{r:?}");

    let mut client = common::client(server.addr).await;
    client.select("INBOX").await.unwrap();
    let _: Vec<_> = client.store("1", "+FLAGS (\\Deleted)").await.unwrap().try_collect().await.unwrap();
    client.close().await.unwrap();
    let r = raw.cmd("STATUS INBOX (MESSAGES)").await;
    assert_eq!(status_items(&r)["MESSAGES"], 1, "{r:?}");
}

#[tokio::test]
async fn unselect_does_not_expunge() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    append(&mut raw, "INBOX", &message("m", "x")).await;
    raw.cmd("SELECT INBOX").await;
    assert_ok(&raw.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)").await);
    let r = raw.cmd("UNSELECT").await;
    assert_ok(&r);
    assert_eq!(r.len(), 1, "{r:?}");
    let r = raw.cmd("STATUS INBOX (MESSAGES DELETED)").await;
    let s = status_items(&r);
    assert_eq!((s["MESSAGES"], s["DELETED"]), (1, 1), "{r:?}");
    let r = raw.cmd("FETCH 1 FLAGS").await;
    assert!(tagged(&r).starts_with("T BAD"), "{r:?}");
}

/// RFC 9051 §6.3.2: SELECT's `LIST` response carries the mailbox's
/// attributes: `\HasChildren` only for real children (`a/b`, not `ab`), and
/// its special use.
#[tokio::test]
async fn select_lists_children_and_special_use() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    assert_ok(&raw.cmd("CREATE a/b").await);
    assert_ok(&raw.cmd("CREATE ab").await);
    assert_ok(&raw.cmd("CREATE Outbox (USE (\\Sent))").await);
    let list_of = |r: &[String]| r.iter().find(|l| l.starts_with("* LIST")).cloned().unwrap_or_default();
    let r = raw.cmd("SELECT a").await;
    assert_ok(&r);
    assert_eq!(list_of(&r), "* LIST (\\HasChildren) \"/\" \"a\"", "{r:?}");
    let r = raw.cmd("EXAMINE a/b").await;
    assert_ok(&r);
    assert_eq!(list_of(&r), "* LIST (\\HasNoChildren) \"/\" \"a/b\"", "{r:?}");
    let r = raw.cmd("SELECT ab").await;
    assert_eq!(list_of(&r), "* LIST (\\HasNoChildren) \"/\" \"ab\"", "{r:?}");
    let r = raw.cmd("SELECT Outbox").await;
    assert_eq!(list_of(&r), "* LIST (\\HasNoChildren \\Sent) \"/\" \"Outbox\"", "{r:?}");
    let r = raw.cmd("SELECT nosuch").await;
    assert!(r.last().unwrap().contains("NO [NONEXISTENT]"), "{r:?}");
}
