//! The directory, the open-account cache, blobs through the store, readers
//! beside the writer.

mod common;

use std::sync::Arc;

use common::*;
use store::{Error, Store};

#[test]
fn account_lifecycle() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let bob = store.create_account("Bob@Example.org", "h1").unwrap();
    let amy = store.create_account("amy@example.org", "h2").unwrap();
    assert_ne!(bob, amy);
    assert!(matches!(store.create_account("BOB@example.org", "x"), Err(Error::AccountExists(_))));
    assert!(matches!(store.create_account("", "x"), Err(Error::InvalidName(_))));

    let list = store.list_accounts().unwrap();
    let names: Vec<&str> = list.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, vec!["amy@example.org", "bob@example.org"]);

    assert_eq!(store.password_hash("BOB@example.org").unwrap(), Some((bob, "h1".to_string())));
    store.set_password_hash("bob@example.org", "h3").unwrap();
    assert_eq!(store.password_hash("bob@example.org").unwrap().unwrap().1, "h3");
    assert!(matches!(store.set_password_hash("nobody", "x"), Err(Error::NoSuchAccount(_))));
    assert_eq!(store.password_hash("nobody").unwrap(), None);

    assert!(dir.path().join(format!("accounts/{}/index.sqlite", bob.0)).exists());
    store.delete_account("bob@example.org").unwrap();
    assert!(!dir.path().join(format!("accounts/{}", bob.0)).exists());
    assert_eq!(store.password_hash("bob@example.org").unwrap(), None);
    assert!(matches!(store.account(bob), Err(Error::NoSuchAccount(_))));
    assert!(matches!(store.delete_account("bob@example.org"), Err(Error::NoSuchAccount(_))));
    // a recreated account gets a new id and a fresh database
    let bob2 = store.create_account("bob@example.org", "h4").unwrap();
    assert_ne!(bob2, bob);
}

#[test]
fn another_process_sees_directory_changes() {
    // Two Stores on one directory stand in for the server and the CLI.
    let dir = tempfile::tempdir().unwrap();
    let server = Store::open(dir.path()).unwrap();
    let cli = Store::open(dir.path()).unwrap();
    assert_eq!(server.password_hash("carol").unwrap(), None);
    let id = cli.create_account("carol", "h1").unwrap();
    assert_eq!(server.password_hash("carol").unwrap(), Some((id, "h1".into())));
    cli.set_password_hash("carol", "h2").unwrap();
    assert_eq!(server.password_hash("carol").unwrap().unwrap().1, "h2");
    assert!(server.account(id).is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_handles_are_shared() {
    let fx = setup();
    let a = fx.store.account(fx.id).unwrap();
    let b = fx.store.clone().account(fx.id).unwrap();
    assert!(Arc::ptr_eq(&a, &b));
    assert!(Arc::ptr_eq(&a, &fx.acc));
    // one feed: a change through one handle reaches a subscriber of the other
    let mut feed = b.subscribe();
    let inbox = mailbox_id(&a, "INBOX").await;
    a.append(inbox, vec![msg(&fx.store, "x")]).await.unwrap();
    assert!(feed.try_recv().is_ok());
    assert_eq!(a.id(), fx.id);

    // when every handle is gone the account stays open for a while (a
    // client that reconnects finds it ready) ...
    let store = fx.store.clone();
    drop((a, b, fx.acc));
    let c = store.account(fx.id).unwrap();
    assert_eq!(c.commit_count(), 1, "the same writer");
    // ... and closes once the store lets go of it; opening again works
    drop(c);
    store.close_unused();
    let c = store.account(fx.id).unwrap();
    assert_eq!(c.status(inbox).await.unwrap().messages, 1);
    assert_eq!(c.commit_count(), 0, "a new handle, a new writer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blobs_are_deduplicated() {
    let fx = setup();
    let inbox = mailbox_id(&fx.acc, "INBOX").await;
    let m1 = msg(&fx.store, "same");
    let m2 = msg(&fx.store, "same");
    assert_eq!(m1.blob, m2.blob);
    let (_, u) = fx.acc.append(inbox, vec![m1.clone(), m2]).await.unwrap();
    let recs = fx.acc.records(inbox, u).await.unwrap();
    assert_eq!(recs[0].blob, recs[1].blob);
    let shard = fx.store.blobs().path(&m1.blob).parent().unwrap().to_path_buf();
    assert_eq!(std::fs::read_dir(shard).unwrap().count(), 1);
    assert!(fx.acc.blobs().read(&m1.blob).unwrap().starts_with(b"Subject: same"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn readers_run_beside_the_writer() {
    let fx = setup();
    let inbox = mailbox_id(&fx.acc, "INBOX").await;
    let writer = {
        let acc = fx.acc.clone();
        let ms: Vec<_> = (0..40).map(|i| msg(&fx.store, &format!("w{i}"))).collect();
        tokio::spawn(async move {
            for m in ms {
                acc.append(inbox, vec![m]).await.unwrap();
            }
        })
    };
    let mut readers = Vec::new();
    for _ in 0..4 {
        let acc = fx.acc.clone();
        readers.push(tokio::spawn(async move {
            let mut last = 0;
            for _ in 0..40 {
                let s = acc.summaries(inbox).await.unwrap();
                // snapshots only grow, UIDs ascending and dense here
                assert!(s.len() >= last);
                assert!(s.windows(2).all(|w| w[0].uid < w[1].uid));
                let st = acc.status(inbox).await.unwrap();
                assert!(st.messages as usize >= s.len());
                last = s.len();
            }
        }));
    }
    writer.await.unwrap();
    for r in readers {
        r.await.unwrap();
    }
    assert_eq!(fx.acc.status(inbox).await.unwrap().messages, 40);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_is_readable_with_plain_sqlite() {
    let fx = setup();
    let inbox = mailbox_id(&fx.acc, "INBOX").await;
    fx.acc.append(inbox, vec![msg(&fx.store, "hello")]).await.unwrap();
    let c = rusqlite::Connection::open(fx.dir.path().join(format!("accounts/{}/index.sqlite", fx.id.0))).unwrap();
    let v: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(v, 12, "schema version: account_0001 .. account_0012");
    let mode: String = c.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    let (name, subject): (String, String) = c
        .query_row("SELECT b.name, m.subject FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((name.as_str(), subject.as_str()), ("INBOX", "hello"));
}

/// At most `KEEP_OPEN_MAX` accounts are held open without a session; a
/// deleted account is not among them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unused_accounts_kept_open_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let n = store::directory::KEEP_OPEN_MAX + 3;
    let ids: Vec<_> = (0..n).map(|i| store.create_account(&format!("u{i}"), "h").unwrap()).collect();
    for id in &ids {
        drop(store.account(*id).unwrap());
    }
    let open = ids.iter().filter(|id| store.account_if_open(**id).is_some()).count();
    assert_eq!(open, store::directory::KEEP_OPEN_MAX);
    assert!(store.account_if_open(ids[0]).is_none(), "the least recently used went first");
    assert!(store.account_if_open(ids[n - 1]).is_some());
    store.delete_account(&format!("u{}", n - 1)).unwrap();
    assert!(store.account_if_open(ids[n - 1]).is_none());
}
