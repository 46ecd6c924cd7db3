//! NOTIFY (RFC 5465): a client watching several mailboxes hears about changes
//! in all of them as they happen, without a command in progress.

mod common;

use std::time::Duration;

use common::{append, message, Raw};

/// Lines that arrive within `wait` without the client sending anything.
async fn unsolicited(raw: &mut Raw, wait: Duration) -> Vec<String> {
    let mut out = Vec::new();
    while let Some(l) = raw.maybe_line(wait).await {
        out.push(l);
    }
    out
}

#[tokio::test]
async fn selected_mailbox_events_arrive_without_a_command() {
    let server = common::start().await;
    let mut phone = Raw::login(server.addr).await;
    let mut laptop = Raw::login(server.addr).await;
    phone.cmd("SELECT INBOX").await;
    let r = phone.cmd("NOTIFY SET (selected (MessageNew (UID ENVELOPE) MessageExpunge FlagChange))").await;
    assert!(r.last().unwrap().starts_with("T OK"), "{r:?}");

    append(&mut laptop, "INBOX", &message("pushed", "x")).await;
    let got = unsolicited(&mut phone, Duration::from_millis(1000)).await;
    assert!(got.iter().any(|l| l == "* 1 EXISTS"), "{got:?}");
    assert!(got.iter().any(|l| l.starts_with("* 1 FETCH (UID 1 ENVELOPE (")), "MessageNew's fetch attributes: {got:?}");

    laptop.cmd("SELECT INBOX").await;
    laptop.cmd("STORE 1 +FLAGS (\\Flagged)").await;
    let got = unsolicited(&mut phone, Duration::from_millis(1000)).await;
    assert!(got.iter().any(|l| l == "* 1 FETCH (UID 1 FLAGS (\\Flagged \\Recent))"), "{got:?}");

    laptop.cmd("STORE 1 +FLAGS (\\Deleted)").await;
    laptop.cmd("EXPUNGE").await;
    let got = unsolicited(&mut phone, Duration::from_millis(1000)).await;
    assert!(got.iter().any(|l| l == "* 1 EXPUNGE"), "{got:?}");
}

#[tokio::test]
async fn other_mailboxes_are_reported_with_status() {
    let server = common::start().await;
    let mut phone = Raw::login(server.addr).await;
    let mut laptop = Raw::login(server.addr).await;
    phone.cmd("SELECT INBOX").await;
    // STATUS indicator: the watched mailboxes' STATUS before the OK (§3.1).
    let r = phone.cmd("NOTIFY SET STATUS (selected (MessageNew MessageExpunge)) (mailboxes (Archive Junk) (MessageNew MessageExpunge FlagChange))").await;
    assert!(r.last().unwrap().starts_with("T OK"), "{r:?}");
    assert!(r.iter().any(|l| l.starts_with("* STATUS \"Archive\" (MESSAGES 0 UIDNEXT 1 UIDVALIDITY ")), "{r:?}");
    assert!(r.iter().any(|l| l.starts_with("* STATUS \"Junk\" (")), "{r:?}");
    // §3.1: the server supports CONDSTORE, so these MUST carry HIGHESTMODSEQ.
    let statuses: Vec<_> = r.iter().filter(|l| l.starts_with("* STATUS ")).collect();
    assert!(statuses.iter().all(|l| l.contains(" HIGHESTMODSEQ ")), "{r:?}");
    assert!(!r.iter().any(|l| l.starts_with("* STATUS \"Sent\"")), "Sent is not watched: {r:?}");

    // A delivery to a mailbox that is not selected.
    append(&mut laptop, "Archive", &message("filed", "x")).await;
    let got = unsolicited(&mut phone, Duration::from_millis(1000)).await;
    assert!(got.iter().any(|l| l.starts_with("* STATUS \"Archive\" (MESSAGES 1 UIDNEXT 2 UIDVALIDITY ")), "{got:?}");
    // Flag changes there report UNSEEN (FlagChange asked for).
    laptop.cmd("SELECT Archive").await;
    laptop.cmd("STORE 1 +FLAGS (\\Seen)").await;
    let got = unsolicited(&mut phone, Duration::from_millis(1000)).await;
    assert!(got.iter().any(|l| l.starts_with("* STATUS \"Archive\" (") && l.contains("UNSEEN 0")), "{got:?}");
    // Not watched: nothing.
    append(&mut laptop, "Sent", &message("sent", "x")).await;
    let got = unsolicited(&mut phone, Duration::from_millis(500)).await;
    assert!(got.is_empty(), "{got:?}");
}

#[tokio::test]
async fn mailbox_names_and_subscriptions() {
    let server = common::start().await;
    let mut phone = Raw::login(server.addr).await;
    let mut laptop = Raw::login(server.addr).await;
    let r = phone.cmd("NOTIFY SET (personal (MailboxName SubscriptionChange))").await;
    assert!(r.last().unwrap().starts_with("T OK"), "{r:?}");

    laptop.cmd("CREATE Projects").await;
    let got = unsolicited(&mut phone, Duration::from_millis(1000)).await;
    assert!(got.iter().any(|l| l == "* LIST (\\HasNoChildren) \"/\" \"Projects\""), "{got:?}");

    laptop.cmd("RENAME Projects Work").await;
    let got = unsolicited(&mut phone, Duration::from_millis(1000)).await;
    assert!(got.iter().any(|l| l == "* LIST (\\HasNoChildren) \"/\" \"Work\" (\"OLDNAME\" (\"Projects\"))"), "{got:?}");

    laptop.cmd("SUBSCRIBE Work").await;
    let got = unsolicited(&mut phone, Duration::from_millis(1000)).await;
    assert!(got.iter().any(|l| l == "* LIST (\\HasNoChildren \\Subscribed) \"/\" \"Work\""), "{got:?}");

    laptop.cmd("DELETE Work").await;
    let got = unsolicited(&mut phone, Duration::from_millis(1000)).await;
    assert!(got.iter().any(|l| l == "* LIST (\\NonExistent) \"/\" \"Work\""), "{got:?}");

    // The client's own changes are not echoed (§5).
    let r = phone.cmd("CREATE Mine").await;
    assert!(!r.iter().any(|l| l.starts_with("* LIST")), "{r:?}");
    let got = unsolicited(&mut phone, Duration::from_millis(500)).await;
    assert!(got.is_empty(), "{got:?}");
}

#[tokio::test]
async fn notify_during_idle_and_notify_none() {
    let server = common::start().await;
    let mut phone = Raw::login(server.addr).await;
    let mut laptop = Raw::login(server.addr).await;
    phone.cmd("SELECT INBOX").await;
    phone.cmd("NOTIFY SET (selected (MessageNew MessageExpunge)) (personal (MessageNew MessageExpunge))").await;
    phone.send(b"I IDLE\r\n").await;
    assert!(phone.line().await.starts_with("+ "));
    append(&mut laptop, "Drafts", &message("draft", "x")).await;
    let l = phone.maybe_line(Duration::from_secs(1)).await.unwrap_or_default();
    assert!(l.starts_with("* STATUS \"Drafts\" (MESSAGES 1 "), "{l}");
    phone.send(b"DONE\r\n").await;
    phone.until_tagged("I").await;

    let r = phone.cmd("NOTIFY NONE").await;
    assert!(r.last().unwrap().starts_with("T OK"), "{r:?}");
    append(&mut laptop, "Drafts", &message("draft2", "x")).await;
    let got = unsolicited(&mut phone, Duration::from_millis(500)).await;
    assert!(got.is_empty(), "{got:?}");
}

#[tokio::test]
async fn invalid_and_unsupported_events() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    // RFC 5465 §3.1: unsupported events → NO [BADEVENT (…supported…)].
    let r = raw.cmd("NOTIFY SET (personal (AnnotationChange))").await;
    assert!(r.last().unwrap().starts_with("T NO [BADEVENT (MessageNew MessageExpunge FlagChange"), "{r:?}");
    // §5: MessageNew needs MessageExpunge; FlagChange needs both.
    let r = raw.cmd("NOTIFY SET (personal (MessageNew))").await;
    assert!(r.last().unwrap().starts_with("T BAD"), "{r:?}");
    let r = raw.cmd("NOTIFY SET (personal (FlagChange))").await;
    assert!(r.last().unwrap().starts_with("T BAD"), "{r:?}");
    // §6.1: mailbox events don't apply to SELECTED; only one selected filter.
    let r = raw.cmd("NOTIFY SET (selected (MailboxName))").await;
    assert!(r.last().unwrap().starts_with("T BAD"), "{r:?}");
    let r = raw.cmd("NOTIFY SET (selected NONE) (selected-delayed NONE)").await;
    assert!(r.last().unwrap().starts_with("T BAD"), "{r:?}");
    // Not before authentication.
    let mut anon = Raw::connect(server.addr).await;
    let r = anon.cmd("NOTIFY NONE").await;
    assert!(r.last().unwrap().starts_with("T BAD"), "{r:?}");
}

/// A delivery over LMTP to a mailbox that is not selected reaches a NOTIFY
/// client as STATUS, and one to the selected INBOX as EXISTS, within a second.
#[tokio::test]
async fn lmtp_deliveries_are_notified() {
    let server = common::start().await;
    let mut phone = Raw::login(server.addr).await;
    phone.cmd("CREATE Lists").await;
    phone.cmd("SELECT INBOX").await;
    let r = phone
        .cmd("NOTIFY SET (selected (MessageNew (UID) MessageExpunge)) (subtree Lists (MessageNew MessageExpunge))")
        .await;
    assert!(r.last().unwrap().starts_with("T OK"), "{r:?}");
    let mut lmtp = common::Lmtp::hello(server.lmtp_addr).await;
    let r = lmtp.deliver("bob@example.org", &["alice@example.org"], &message("to inbox", "x")).await;
    assert!(r[0].starts_with("250"), "{r:?}");
    let got = unsolicited(&mut phone, Duration::from_millis(1000)).await;
    assert!(got.iter().any(|l| l == "* 1 EXISTS"), "{got:?}");
    assert!(got.iter().any(|l| l == "* 1 FETCH (UID 1)"), "{got:?}");
    // Straight into Lists, as a Sieve fileinto or `deliver --mailbox` would.
    let mut other = Raw::login(server.addr).await;
    append(&mut other, "Lists", &message("list mail", "x")).await;
    let got = unsolicited(&mut phone, Duration::from_millis(1000)).await;
    assert!(got.iter().any(|l| l.starts_with("* STATUS \"Lists\" (MESSAGES 1 ")), "{got:?}");
}
