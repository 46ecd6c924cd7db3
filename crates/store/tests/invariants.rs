//! DESIGN.md §2 invariants, one test (or more) each.

mod common;

use std::collections::HashSet;
use std::sync::Arc;

use common::*;
use sha2::{Digest, Sha256};
use store::{FlagOp, Flags, Store};

// ----- invariant 1: UIDs never reused, UIDNEXT only grows -----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uid_not_reused_after_expunging_highest() {
    let fx = setup();
    let inbox = mailbox_id(&fx.acc, "INBOX").await;
    let (_, a) = fx.acc.append(inbox, vec![msg(&fx.store, "1"), msg(&fx.store, "2")]).await.unwrap();
    assert_eq!(a, vec![1, 2]);
    fx.acc.store_flags(inbox, vec![2], FlagOp::Add, flags(Flags::DELETED), None).await.unwrap();
    assert_eq!(fx.acc.expunge(inbox, None).await.unwrap(), vec![2]);
    assert_eq!(fx.acc.status(inbox).await.unwrap().uid_next, 3);
    let (_, b) = fx.acc.append(inbox, vec![msg(&fx.store, "3")]).await.unwrap();
    assert_eq!(b, vec![3]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uid_not_reused_after_restart() {
    let fx = setup();
    let inbox = mailbox_id(&fx.acc, "INBOX").await;
    let (uv, a) = fx.acc.append(inbox, vec![msg(&fx.store, "1"), msg(&fx.store, "2")]).await.unwrap();
    fx.acc.store_flags(inbox, a.clone(), FlagOp::Add, flags(Flags::DELETED), None).await.unwrap();
    fx.acc.expunge(inbox, None).await.unwrap();
    let dir = fx.dir;
    drop(fx.acc);
    drop(fx.store);

    let store = Store::open(dir.path()).unwrap();
    let acc = store.account(fx.id).unwrap();
    let (uv2, b) = acc.append(inbox, vec![msg(&store, "3")]).await.unwrap();
    assert_eq!(uv, uv2, "UIDVALIDITY survives a restart");
    assert_eq!(b, vec![3]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uidvalidity_changes_when_mailbox_recreated() {
    let fx = setup();
    let mut seen = HashSet::new();
    for m in fx.acc.mailboxes().await.unwrap() {
        assert_ne!(m.uid_validity, 0);
        assert!(seen.insert(m.uid_validity), "distinct per mailbox");
    }
    for _ in 0..3 {
        fx.acc.create_mailbox("Projects", None).await.unwrap();
        let uv = fx.acc.mailbox("Projects").await.unwrap().unwrap().uid_validity;
        assert_ne!(uv, 0);
        assert!(seen.insert(uv), "recreated mailbox got a used UIDVALIDITY {uv}");
        fx.acc.delete_mailbox("Projects").await.unwrap();
    }
    // also across a restart
    let dir = fx.dir;
    drop(fx.acc);
    drop(fx.store);
    let store = Store::open(dir.path()).unwrap();
    let acc = store.account(fx.id).unwrap();
    acc.create_mailbox("Projects", None).await.unwrap();
    let uv = acc.mailbox("Projects").await.unwrap().unwrap().uid_validity;
    assert!(seen.insert(uv));
}

// ----- invariant 2: MODSEQ grows; HIGHESTMODSEQ = max(rows, tombstones) -----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modseq_grows_and_highestmodseq_is_max() {
    let fx = setup();
    let inbox = mailbox_id(&fx.acc, "INBOX").await;
    let dbpath = fx.dir.path().join(format!("accounts/{}/index.sqlite", fx.id.0));
    let check = |expected: u64| {
        let c = rusqlite::Connection::open(&dbpath).unwrap();
        let (h, m): (i64, i64) = c
            .query_row(
                "SELECT highestmodseq,
                        max(coalesce((SELECT max(modseq) FROM messages WHERE mailbox_id = ?1), 0),
                            coalesce((SELECT max(modseq) FROM expunged WHERE mailbox_id = ?1), 0))
                 FROM mailboxes WHERE id = ?1",
                [inbox.0],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(h as u64, expected);
        assert_eq!(h, m, "HIGHESTMODSEQ is the max of rows and tombstones");
    };
    let m0 = fx.acc.status(inbox).await.unwrap().highest_modseq;

    fx.acc.append(inbox, vec![msg(&fx.store, "a"), msg(&fx.store, "b")]).await.unwrap();
    let m1 = fx.acc.status(inbox).await.unwrap().highest_modseq;
    assert!(m1 > m0);
    check(m1);

    let (st, _) = fx.acc.store_flags(inbox, vec![1], FlagOp::Add, flags(Flags::SEEN), None).await.unwrap();
    let m2 = fx.acc.status(inbox).await.unwrap().highest_modseq;
    assert!(m2 > m1);
    assert_eq!(st[0].modseq, m2);
    check(m2);

    fx.acc.store_flags(inbox, vec![2], FlagOp::Add, flags(Flags::DELETED), None).await.unwrap();
    let m3 = fx.acc.status(inbox).await.unwrap().highest_modseq;
    assert!(m3 > m2);
    fx.acc.expunge(inbox, None).await.unwrap();
    let m4 = fx.acc.status(inbox).await.unwrap().highest_modseq;
    assert!(m4 > m3);
    check(m4); // the max now comes from the tombstone

    // a STORE that changes nothing does not bump
    fx.acc.store_flags(inbox, vec![1], FlagOp::Add, flags(Flags::SEEN), None).await.unwrap();
    assert_eq!(fx.acc.status(inbox).await.unwrap().highest_modseq, m4);
    check(m4);
}

// ----- invariant 3: durability before acknowledgement -----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_append_is_durable() {
    let fx = setup();
    let inbox = mailbox_id(&fx.acc, "INBOX").await;
    let bytes = b"Subject: durable\r\n\r\nkeep me\r\n".to_vec();
    let blob = fx.store.blobs().write(&bytes).unwrap();
    let mut m = msg(&fx.store, "x");
    m.blob = blob.clone();
    m.size = bytes.len() as u64;
    let (_, uids) = fx.acc.append(inbox, vec![m]).await.unwrap();

    // A second, independent Store on the same directory (the old one still
    // open, as after a crash nothing would be flushed by dropping it).
    let store2 = Store::open(fx.dir.path()).unwrap();
    let acc2 = store2.account(fx.id).unwrap();
    let recs = acc2.records(inbox, uids.clone()).await.unwrap();
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].blob, blob);
    let path = store2.blobs().path(&recs[0].blob);
    let on_disk = std::fs::read(&path).unwrap();
    assert_eq!(hex::encode(Sha256::digest(&on_disk)), recs[0].blob.0);
    assert_eq!(on_disk, bytes);
}

// ----- invariant 4: group commit -----

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_share_transactions() {
    let fx = setup();
    let inbox = mailbox_id(&fx.acc, "INBOX").await;
    let before = fx.acc.commit_count();
    let n = 50;
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let mut tasks = Vec::new();
    for i in 0..n {
        let acc = fx.acc.clone();
        let m = msg(&fx.store, &format!("m{i}"));
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            acc.append(inbox, vec![m]).await
        }));
    }
    let mut all = HashSet::new();
    for t in tasks {
        let (_, uids) = t.await.unwrap().unwrap();
        assert_eq!(uids.len(), 1);
        assert!(all.insert(uids[0]), "duplicate UID");
    }
    assert_eq!(all.len(), n);
    assert_eq!(fx.acc.status(inbox).await.unwrap().messages, n as u32);
    let commits = fx.acc.commit_count() - before;
    assert!(commits >= 1);
    assert!(commits < n as u64, "{n} appends took {commits} commits: no grouping");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failing_write_does_not_abort_its_group() {
    let fx = setup();
    let inbox = mailbox_id(&fx.acc, "INBOX").await;
    let mut tasks = Vec::new();
    for i in 0..20 {
        let acc = fx.acc.clone();
        let m = msg(&fx.store, &format!("m{i}"));
        tasks.push(tokio::spawn(async move {
            if i % 2 == 0 {
                acc.append(inbox, vec![m]).await.map(|_| ())
            } else {
                // always fails: the mailbox exists
                acc.create_mailbox("Sent", None).await.map(|_| ())
            }
        }));
    }
    for (i, t) in tasks.into_iter().enumerate() {
        let r = t.await.unwrap();
        if i % 2 == 0 {
            assert!(r.is_ok());
        } else {
            assert!(matches!(r, Err(store::Error::MailboxExists(_))));
        }
    }
    assert_eq!(fx.acc.status(inbox).await.unwrap().messages, 10);
}

// ----- invariant 5: returned data is owned -----

/// Every method returns owned values: results can be kept across later
/// writes, and even after the account handle is gone, without holding any
/// lock or transaction (the writer keeps going meanwhile).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_are_owned() {
    let fx = setup();
    let inbox = mailbox_id(&fx.acc, "INBOX").await;
    fx.acc.append(inbox, vec![msg(&fx.store, "a")]).await.unwrap();
    let recs = fx.acc.records(inbox, vec![1]).await.unwrap();
    let sums = fx.acc.summaries(inbox).await.unwrap();
    fx.acc.append(inbox, vec![msg(&fx.store, "b")]).await.unwrap();
    fx.acc.store_flags(inbox, vec![1], FlagOp::Add, flags(Flags::SEEN), None).await.unwrap();
    drop(fx.acc);
    assert_eq!(recs[0].meta.subject, "a");
    assert_eq!(sums[0].flags.system, 0);
}
