//! Mailbox operations: create, delete, rename, subscriptions, change feed.

mod common;

use common::*;
use store::{Change, Error, FlagOp, Flags};

async fn names(acc: &store::Account) -> Vec<String> {
    acc.mailboxes().await.unwrap().into_iter().map(|m| m.name).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_mailboxes_sorted_and_subscribed() {
    let fx = setup();
    let list = fx.acc.mailboxes().await.unwrap();
    let got: Vec<(&str, Option<&str>)> = list.iter().map(|m| (m.name.as_str(), m.special_use.as_deref())).collect();
    assert_eq!(
        got,
        vec![
            ("Archive", Some("\\Archive")),
            ("Drafts", Some("\\Drafts")),
            ("INBOX", None),
            ("Junk", Some("\\Junk")),
            ("Sent", Some("\\Sent")),
            ("Trash", Some("\\Trash")),
        ]
    );
    for m in &list {
        assert_eq!(m.uid_next, 1);
        assert!(m.highest_modseq >= 1);
    }
    assert_eq!(fx.acc.subscriptions().await.unwrap(), vec!["Archive", "Drafts", "INBOX", "Junk", "Sent", "Trash"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_makes_parents_and_refuses_duplicates() {
    let fx = setup();
    let mut feed = fx.acc.subscribe();
    let id = fx.acc.create_mailbox("a/b/c", Some("\\Flagged")).await.unwrap();
    assert_eq!(feed.recv().await.unwrap(), Change::MailboxList);
    let c = fx.acc.mailbox("a/b/c").await.unwrap().unwrap();
    assert_eq!(c.id, id);
    assert_eq!(c.special_use.as_deref(), Some("\\Flagged"));
    assert!(fx.acc.mailbox("a").await.unwrap().is_some());
    assert!(fx.acc.mailbox("a/b").await.unwrap().unwrap().special_use.is_none());
    assert!(matches!(fx.acc.create_mailbox("a/b", None).await, Err(Error::MailboxExists(_))));
    assert!(matches!(fx.acc.create_mailbox("INBOX", None).await, Err(Error::MailboxExists(_))));
    fx.acc.create_mailbox("a/d", None).await.unwrap();
    fx.acc.create_mailbox("INBOX/sub", None).await.unwrap();
    for bad in ["", "/x", "x/", "x//y"] {
        assert!(matches!(fx.acc.create_mailbox(bad, None).await, Err(Error::InvalidName(_))), "{bad:?}");
    }
    assert_eq!(
        names(&fx.acc).await,
        vec!["Archive", "Drafts", "INBOX", "INBOX/sub", "Junk", "Sent", "Trash", "a", "a/b", "a/b/c", "a/d"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_refuses_inbox_and_children() {
    let fx = setup();
    fx.acc.create_mailbox("p/q", None).await.unwrap();
    assert!(matches!(fx.acc.delete_mailbox("INBOX").await, Err(Error::NotAllowed(_))));
    assert!(matches!(fx.acc.delete_mailbox("p").await, Err(Error::HasChildren(_))));
    assert!(matches!(fx.acc.delete_mailbox("nope").await, Err(Error::NoSuchMailbox(_))));
    // a sibling whose name merely starts with "p" is not a child
    fx.acc.create_mailbox("p2", None).await.unwrap();
    fx.acc.delete_mailbox("p/q").await.unwrap();
    fx.acc.delete_mailbox("p").await.unwrap();
    assert!(fx.acc.mailbox("p").await.unwrap().is_none());
    assert!(fx.acc.mailbox("p2").await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_removes_messages_and_tombstones() {
    let fx = setup();
    let id = fx.acc.create_mailbox("Old", None).await.unwrap();
    fx.acc.append(id, vec![msg(&fx.store, "1"), msg(&fx.store, "2")]).await.unwrap();
    fx.acc.store_flags(id, vec![1], FlagOp::Add, flags(Flags::DELETED), None).await.unwrap();
    fx.acc.expunge(id, None).await.unwrap();
    fx.acc.delete_mailbox("Old").await.unwrap();
    assert!(matches!(fx.acc.status(id).await, Err(Error::NoSuchMailbox(_))));
    let db = rusqlite::Connection::open(fx.dir.path().join(format!("accounts/{}/index.sqlite", fx.id.0))).unwrap();
    let n: i64 = db
        .query_row(
            "SELECT (SELECT count(*) FROM messages WHERE mailbox_id = ?1) + (SELECT count(*) FROM expunged WHERE mailbox_id = ?1)",
            [id.0],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 0);
    // recreated: fresh, empty, new id
    let id2 = fx.acc.create_mailbox("Old", None).await.unwrap();
    assert_ne!(id, id2);
    assert_eq!(fx.acc.status(id2).await.unwrap().messages, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rename_moves_children_and_keeps_uidvalidity() {
    let fx = setup();
    let a = fx.acc.create_mailbox("a", None).await.unwrap();
    fx.acc.create_mailbox("a/x/y", None).await.unwrap();
    fx.acc.create_mailbox("ab", None).await.unwrap(); // not a child of "a"
    fx.acc.set_subscribed("a/x", true).await.unwrap();
    fx.acc.append(a, vec![msg(&fx.store, "m")]).await.unwrap();
    let before = fx.acc.mailbox("a").await.unwrap().unwrap();
    let y_before = fx.acc.mailbox("a/x/y").await.unwrap().unwrap();

    fx.acc.rename_mailbox("a", "n/b").await.unwrap();
    let all = names(&fx.acc).await;
    assert!(!all.iter().any(|n| n == "a" || n.starts_with("a/")), "{all:?}");
    for n in ["n", "n/b", "n/b/x", "n/b/x/y", "ab"] {
        assert!(all.iter().any(|x| x == n), "{n} missing in {all:?}");
    }
    let after = fx.acc.mailbox("n/b").await.unwrap().unwrap();
    assert_eq!(after.id, before.id);
    assert_eq!(after.uid_validity, before.uid_validity);
    assert_eq!(after.uid_next, before.uid_next);
    let y_after = fx.acc.mailbox("n/b/x/y").await.unwrap().unwrap();
    assert_eq!((y_after.id, y_after.uid_validity), (y_before.id, y_before.uid_validity));
    assert_eq!(fx.acc.status(after.id).await.unwrap().messages, 1);
    let subs = fx.acc.subscriptions().await.unwrap();
    assert!(subs.contains(&"n/b/x".to_string()) && !subs.contains(&"a/x".to_string()), "{subs:?}");

    assert!(matches!(fx.acc.rename_mailbox("ab", "Sent").await, Err(Error::MailboxExists(_))));
    assert!(matches!(fx.acc.rename_mailbox("ab", "INBOX").await, Err(Error::MailboxExists(_))));
    assert!(matches!(fx.acc.rename_mailbox("nope", "x").await, Err(Error::NoSuchMailbox(_))));
    assert!(fx.acc.rename_mailbox("n", "n/b/c").await.is_err(), "rename under itself");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rename_inbox_moves_messages() {
    let fx = setup();
    let inbox = mailbox_id(&fx.acc, "INBOX").await;
    fx.acc.create_mailbox("INBOX/child", None).await.unwrap();
    fx.acc
        .append(inbox, vec![msg_flags(&fx.store, "1", flags(Flags::SEEN)), msg(&fx.store, "2"), msg(&fx.store, "3")])
        .await
        .unwrap();
    let inbox_before = fx.acc.mailbox("INBOX").await.unwrap().unwrap();

    fx.acc.rename_mailbox("INBOX", "Old/Mail").await.unwrap();

    let inbox_after = fx.acc.mailbox("INBOX").await.unwrap().unwrap();
    assert_eq!(inbox_after.id, inbox_before.id);
    assert_eq!(inbox_after.uid_validity, inbox_before.uid_validity);
    assert_eq!(inbox_after.uid_next, 4, "UIDNEXT does not go back");
    assert_eq!(fx.acc.status(inbox).await.unwrap().messages, 0);
    let ch = fx.acc.changes_since(inbox, inbox_before.highest_modseq).await.unwrap();
    assert_eq!(ch.expunged, vec![1, 2, 3]);
    assert!(fx.acc.mailbox("INBOX/child").await.unwrap().is_some(), "INBOX children stay");

    let old = fx.acc.mailbox("Old/Mail").await.unwrap().unwrap();
    assert!(fx.acc.mailbox("Old").await.unwrap().is_some());
    let s = fx.acc.summaries(old.id).await.unwrap();
    assert_eq!(uids(&s), vec![1, 2, 3]);
    assert!(s[0].flags.has(Flags::SEEN));
    let recs = fx.acc.records(old.id, vec![1, 2, 3]).await.unwrap();
    assert_eq!(recs.iter().map(|r| r.meta.subject.as_str()).collect::<Vec<_>>(), vec!["1", "2", "3"]);

    // new mail still goes to INBOX with fresh UIDs
    let (_, u) = fx.acc.append(inbox, vec![msg(&fx.store, "4")]).await.unwrap();
    assert_eq!(u, vec![4]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_of_nonexistent_names() {
    let fx = setup();
    fx.acc.set_subscribed("does/not/exist", true).await.unwrap();
    fx.acc.set_subscribed("does/not/exist", true).await.unwrap(); // idempotent
    assert!(fx.acc.mailbox("does/not/exist").await.unwrap().is_none());
    assert!(fx.acc.subscriptions().await.unwrap().contains(&"does/not/exist".to_string()));
    fx.acc.set_subscribed("Junk", false).await.unwrap();
    fx.acc.set_subscribed("never-subscribed", false).await.unwrap();
    let subs = fx.acc.subscriptions().await.unwrap();
    assert!(!subs.contains(&"Junk".to_string()));
    assert!(fx.acc.mailbox("Junk").await.unwrap().is_some(), "unsubscribing keeps the mailbox");
    // deleting a mailbox keeps its subscription (RFC 9051 §6.3.7)
    fx.acc.create_mailbox("Tmp", None).await.unwrap();
    fx.acc.set_subscribed("Tmp", true).await.unwrap();
    fx.acc.delete_mailbox("Tmp").await.unwrap();
    assert!(fx.acc.subscriptions().await.unwrap().contains(&"Tmp".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feed_reports_mailbox_changes_after_commit() {
    let fx = setup();
    let inbox = mailbox_id(&fx.acc, "INBOX").await;
    let mut feed = fx.acc.subscribe();
    fx.acc.append(inbox, vec![msg(&fx.store, "1")]).await.unwrap();
    let hm = fx.acc.status(inbox).await.unwrap().highest_modseq;
    // published before append returned
    assert_eq!(feed.try_recv().unwrap(), Change::Mailbox { mailbox: inbox, modseq: hm });
    fx.acc.set_subscribed("x", true).await.unwrap();
    assert_eq!(feed.try_recv().unwrap(), Change::MailboxList);
    // a failing write publishes nothing
    assert!(fx.acc.create_mailbox("INBOX", None).await.is_err());
    assert!(feed.try_recv().is_err());
}

/// RFC 3501 §2.3.2: a message is recent for exactly one session — the first
/// to claim it — and STATUS RECENT counts what nobody has claimed yet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recent_is_claimed_once() {
    let fx = setup();
    let id = fx.acc.create_mailbox("R", None).await.unwrap();
    assert_eq!(fx.acc.recent(id, true).await.unwrap(), None);
    fx.acc.append(id, vec![msg(&fx.store, "1"), msg(&fx.store, "2")]).await.unwrap();
    assert_eq!(fx.acc.status(id).await.unwrap().recent, 2);
    // Looking (EXAMINE) takes nothing.
    assert_eq!(fx.acc.recent(id, false).await.unwrap(), Some(1..=2));
    assert_eq!(fx.acc.recent(id, false).await.unwrap(), Some(1..=2));
    let (a, b) = (fx.acc.recent(id, true), fx.acc.recent(id, true));
    let (a, b) = tokio::join!(a, b);
    let mut got = [a.unwrap(), b.unwrap()];
    got.sort_by_key(|r| r.is_some());
    assert_eq!(got, [None, Some(1..=2)], "exactly one claimer gets them");
    assert_eq!(fx.acc.status(id).await.unwrap().recent, 0);
    fx.acc.append(id, vec![msg(&fx.store, "3")]).await.unwrap();
    assert_eq!(fx.acc.status(id).await.unwrap().recent, 1);
    assert_eq!(fx.acc.recent(id, true).await.unwrap(), Some(3..=3));
    // Expunged before anyone claims it: the range still moves on.
    fx.acc.append(id, vec![msg(&fx.store, "4")]).await.unwrap();
    fx.acc.store_flags(id, vec![4], FlagOp::Add, flags(Flags::DELETED), None).await.unwrap();
    fx.acc.expunge(id, None).await.unwrap();
    assert_eq!(fx.acc.status(id).await.unwrap().recent, 0);
    assert_eq!(fx.acc.recent(id, true).await.unwrap(), Some(4..=4));
    assert_eq!(fx.acc.recent(id, true).await.unwrap(), None);
}

/// `open_mailbox` answers from a cached snapshot on the caller's thread only
/// while it is current: after an append, a flag change and an expunge, the
/// next open shows them, and opening again answers the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_mailbox_is_current_whether_warm_or_cold() {
    let fx = setup();
    let inbox = mailbox_id(&fx.acc, "INBOX").await;
    fx.acc.append(inbox, vec![msg(&fx.store, "1"), msg(&fx.store, "2")]).await.unwrap();
    let first = fx.acc.open_mailbox("INBOX").await.unwrap().unwrap();
    let again = fx.acc.open_mailbox("INBOX").await.unwrap().unwrap();
    assert_eq!((first.snapshot.uids.to_vec(), again.snapshot.uids.to_vec()), (vec![1, 2], vec![1, 2]));
    assert_eq!(again.snapshot.modseq, first.snapshot.modseq);
    assert!(!again.has_children);

    fx.acc.append(inbox, vec![msg(&fx.store, "3")]).await.unwrap();
    fx.acc.store_flags(inbox, vec![1], FlagOp::Add, flags(Flags::DELETED | Flags::SEEN), None).await.unwrap();
    fx.acc.expunge(inbox, None).await.unwrap();
    fx.acc.create_mailbox("INBOX/child", None).await.unwrap();
    let after = fx.acc.open_mailbox("INBOX").await.unwrap().unwrap();
    assert_eq!(*after.snapshot.uids, vec![2, 3]);
    assert_eq!(after.snapshot.modseq, fx.acc.status(inbox).await.unwrap().highest_modseq);
    assert_eq!(after.snapshot.uid_next, 4);
    assert!(after.has_children);
    let warm = fx.acc.open_mailbox("INBOX").await.unwrap().unwrap();
    assert_eq!((warm.snapshot.uids.to_vec(), warm.snapshot.modseq), (vec![2, 3], after.snapshot.modseq));
    assert!(fx.acc.open_mailbox("Nowhere").await.unwrap().is_none());
}
