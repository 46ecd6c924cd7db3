//! Message operations: changes_since, STORE (UNCHANGEDSINCE), EXPUNGE, COPY, MOVE, STATUS.

mod common;

use common::*;
use store::{Error, FlagOp, Flags, Store};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_since_sees_flags_expunges_and_new_mail() {
    let fx = setup();
    let inbox = mailbox_id(&fx.acc, "INBOX").await;
    fx.acc.append(inbox, vec![msg(&fx.store, "1"), msg(&fx.store, "2"), msg(&fx.store, "3")]).await.unwrap();
    let since = fx.acc.status(inbox).await.unwrap().highest_modseq;
    let none = fx.acc.changes_since(inbox, since).await.unwrap();
    assert!(none.changed.is_empty() && none.expunged.is_empty());
    assert_eq!(none.highest_modseq, since);

    let kw = Flags { system: Flags::FLAGGED, keywords: vec!["$Important".into()] };
    fx.acc.store_flags(inbox, vec![1], FlagOp::Add, kw, None).await.unwrap();
    fx.acc.store_flags(inbox, vec![2], FlagOp::Add, flags(Flags::DELETED), None).await.unwrap();
    fx.acc.expunge(inbox, None).await.unwrap();
    fx.acc.append(inbox, vec![msg(&fx.store, "4")]).await.unwrap();

    let ch = fx.acc.changes_since(inbox, since).await.unwrap();
    assert_eq!(uids(&ch.changed), vec![1, 4]);
    assert!(ch.changed[0].flags.has(Flags::FLAGGED));
    assert!(ch.changed[0].flags.has_keyword("$important"));
    assert_eq!(ch.expunged, vec![2]);
    let hm = fx.acc.status(inbox).await.unwrap().highest_modseq;
    assert_eq!(ch.highest_modseq, hm);
    assert!(ch.changed.iter().all(|m| m.modseq > since && m.modseq <= hm));

    // from 0: everything that exists, every tombstone
    let all = fx.acc.changes_since(inbox, 0).await.unwrap();
    assert_eq!(uids(&all.changed), vec![1, 3, 4]);
    assert_eq!(all.expunged, vec![2]);
    assert!(matches!(fx.acc.changes_since(store::MailboxId(9999), 0).await, Err(Error::NoSuchMailbox(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_flags_ops_and_unchanged_since() {
    let fx = setup();
    let inbox = mailbox_id(&fx.acc, "INBOX").await;
    fx.acc.append(inbox, vec![msg(&fx.store, "1"), msg(&fx.store, "2"), msg(&fx.store, "3")]).await.unwrap();
    let base = fx.acc.status(inbox).await.unwrap().highest_modseq;

    // change message 2 so its MODSEQ is above `base`
    let (s, _) = fx.acc.store_flags(inbox, vec![2], FlagOp::Add, flags(Flags::SEEN), None).await.unwrap();
    let m2 = s[0].modseq;
    assert!(m2 > base);

    // UNCHANGEDSINCE base: 2 is refused, 1 and 3 change; 99 does not exist
    let (ok, failed) =
        fx.acc.store_flags(inbox, vec![3, 1, 2, 99], FlagOp::Add, flags(Flags::FLAGGED), Some(base)).await.unwrap();
    assert_eq!(failed, vec![2]);
    assert_eq!(uids(&ok), vec![1, 3]);
    assert!(ok.iter().all(|m| m.flags.has(Flags::FLAGGED) && m.modseq > m2));
    let s = fx.acc.summaries(inbox).await.unwrap();
    assert!(!s[1].flags.has(Flags::FLAGGED), "refused message untouched");
    assert_eq!(s[1].modseq, m2);

    // only messages whose flags change get the new MODSEQ
    let before = fx.acc.summaries(inbox).await.unwrap();
    let (res, _) = fx.acc.store_flags(inbox, vec![1, 2], FlagOp::Add, flags(Flags::SEEN), None).await.unwrap();
    assert!(res[0].modseq > before[0].modseq, "1 gained \\Seen");
    assert_eq!(res[1].modseq, before[1].modseq, "2 already had \\Seen");

    // Replace and Remove; keywords case-insensitive
    let (r, _) = fx
        .acc
        .store_flags(
            inbox,
            vec![3],
            FlagOp::Replace,
            Flags { system: Flags::DRAFT, keywords: vec!["Work".into(), "home".into()] },
            None,
        )
        .await
        .unwrap();
    assert_eq!(r[0].flags.system, Flags::DRAFT);
    assert_eq!(r[0].flags.keywords, vec!["home", "Work"]);
    let (r, _) = fx
        .acc
        .store_flags(
            inbox,
            vec![3],
            FlagOp::Remove,
            Flags { system: Flags::DRAFT, keywords: vec!["WORK".into()] },
            None,
        )
        .await
        .unwrap();
    assert_eq!(r[0].flags.system, 0);
    assert_eq!(r[0].flags.keywords, vec!["home"]);

    // keywords are atoms
    let bad = Flags { system: 0, keywords: vec!["two words".into()] };
    assert!(matches!(fx.acc.store_flags(inbox, vec![3], FlagOp::Add, bad, None).await, Err(Error::InvalidName(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expunge_only_deleted_and_only_given_uids() {
    let fx = setup();
    let inbox = mailbox_id(&fx.acc, "INBOX").await;
    let d = flags(Flags::DELETED);
    fx.acc
        .append(
            inbox,
            vec![
                msg_flags(&fx.store, "1", d.clone()),
                msg(&fx.store, "2"),
                msg_flags(&fx.store, "3", d.clone()),
                msg_flags(&fx.store, "4", d.clone()),
            ],
        )
        .await
        .unwrap();
    let hm = fx.acc.status(inbox).await.unwrap().highest_modseq;
    assert_eq!(fx.acc.expunge(inbox, Some(vec![2, 3])).await.unwrap(), vec![3]);
    assert_eq!(fx.acc.expunge(inbox, None).await.unwrap(), vec![1, 4]);
    assert_eq!(uids(&fx.acc.summaries(inbox).await.unwrap()), vec![2]);
    // nothing to expunge: no MODSEQ bump
    let hm2 = fx.acc.status(inbox).await.unwrap().highest_modseq;
    assert!(hm2 > hm);
    assert!(fx.acc.expunge(inbox, None).await.unwrap().is_empty());
    assert_eq!(fx.acc.status(inbox).await.unwrap().highest_modseq, hm2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_maps_in_source_order() {
    let fx = setup();
    let inbox = mailbox_id(&fx.acc, "INBOX").await;
    let dest = fx.acc.create_mailbox("Dest", None).await.unwrap();
    fx.acc.append(dest, vec![msg(&fx.store, "already")]).await.unwrap();
    let mut ms = Vec::new();
    for i in 1..=5 {
        ms.push(msg_flags(&fx.store, &format!("{i}"), flags(if i == 2 { Flags::SEEN } else { 0 })));
    }
    fx.acc.append(inbox, ms).await.unwrap();
    fx.acc.store_flags(inbox, vec![3], FlagOp::Add, flags(Flags::DELETED), None).await.unwrap();
    fx.acc.expunge(inbox, None).await.unwrap();

    let res = fx.acc.copy(inbox, vec![5, 2, 3, 4, 2], dest).await.unwrap();
    assert_eq!(res.uid_validity, fx.acc.mailbox("Dest").await.unwrap().unwrap().uid_validity);
    assert_eq!(res.mapping, vec![(2, 2), (4, 3), (5, 4)]);
    let src = fx.acc.records(inbox, vec![2, 4, 5]).await.unwrap();
    let dst = fx.acc.records(dest, vec![2, 3, 4]).await.unwrap();
    for (s, d) in src.iter().zip(&dst) {
        assert_eq!(s.blob, d.blob);
        assert_eq!(s.meta, d.meta);
        assert_eq!(s.flags, d.flags);
        assert_eq!(s.size, d.size);
        assert_eq!(s.internal_date, d.internal_date);
    }
    assert!(dst[0].flags.has(Flags::SEEN));
    assert_eq!(fx.acc.status(inbox).await.unwrap().messages, 4, "copy leaves the source");
    // nothing to copy
    let empty = fx.acc.copy(inbox, vec![3, 100], dest).await.unwrap();
    assert!(empty.mapping.is_empty());
    assert!(matches!(fx.acc.copy(inbox, vec![1], store::MailboxId(4242)).await, Err(Error::NoSuchMailbox(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn move_copies_and_expunges_atomically() {
    let fx = setup();
    let inbox = mailbox_id(&fx.acc, "INBOX").await;
    let trash = mailbox_id(&fx.acc, "Trash").await;
    fx.acc.append(inbox, vec![msg(&fx.store, "1"), msg(&fx.store, "2"), msg(&fx.store, "3")]).await.unwrap();
    let since = fx.acc.status(inbox).await.unwrap().highest_modseq;
    let commits = fx.acc.commit_count();
    let res = fx.acc.move_messages(inbox, vec![3, 1], trash).await.unwrap();
    assert_eq!(fx.acc.commit_count(), commits + 1, "one transaction");
    assert_eq!(res.mapping, vec![(1, 1), (3, 2)]);
    assert_eq!(uids(&fx.acc.summaries(inbox).await.unwrap()), vec![2]);
    assert_eq!(uids(&fx.acc.summaries(trash).await.unwrap()), vec![1, 2]);
    assert_eq!(fx.acc.changes_since(inbox, since).await.unwrap().expunged, vec![1, 3]);
    // a failed move (no destination) changes nothing
    assert!(fx.acc.move_messages(inbox, vec![2], store::MailboxId(4242)).await.is_err());
    assert_eq!(uids(&fx.acc.summaries(inbox).await.unwrap()), vec![2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_counts_and_records() {
    let fx = setup();
    let inbox = mailbox_id(&fx.acc, "INBOX").await;
    let mut m1 = msg_flags(&fx.store, "1", flags(Flags::SEEN));
    m1.prefix = b"Return-Path: <a@b>\r\n".to_vec();
    m1.size += m1.prefix.len() as u64;
    m1.meta.sent_date = Some(1_600_000_000);
    m1.meta.envelope = b"(NIL)".to_vec();
    let m2 = msg_flags(&fx.store, "2", flags(Flags::DELETED));
    let m3 = msg(&fx.store, "3");
    let total = m1.size + m2.size + m3.size;
    let (uv, u) = fx.acc.append(inbox, vec![m1.clone(), m2, m3]).await.unwrap();
    assert_eq!(u, vec![1, 2, 3]);
    let st = fx.acc.status(inbox).await.unwrap();
    assert_eq!((st.messages, st.unseen, st.deleted, st.size), (3, 2, 1, total));
    assert_eq!((st.uid_next, st.uid_validity), (4, uv));

    let r = fx.acc.records(inbox, vec![7, 1]).await.unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].uid, 1);
    assert_eq!(r[0].prefix, m1.prefix);
    assert_eq!(r[0].meta, m1.meta);
    assert_eq!(r[0].internal_date_zone, 60);
    assert_eq!(r[0].size, m1.size);

    // a message whose blob was never written is refused
    let mut ghost = msg(&fx.store, "ghost");
    ghost.blob = store::BlobId("0".repeat(64));
    assert!(matches!(fx.acc.append(inbox, vec![ghost]).await, Err(Error::Io(_))));
    assert_eq!(fx.acc.status(inbox).await.unwrap().messages, 3);
}

/// RFC 8508 REPLACE in the store: the old message goes and the new one comes
/// in one transaction; a missing old message or a refused append changes
/// nothing; quota counts the net change; the preview is stored and copied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replace_within_is_atomic() {
    let fx = setup();
    let inbox = mailbox_id(&fx.acc, "INBOX").await;
    fx.acc.append(inbox, vec![msg(&fx.store, "1"), msg(&fx.store, "2")]).await.unwrap();
    let none = store::QuotaLimits::default();

    let r = fx.acc.replace_within(inbox, vec![msg(&fx.store, "new")], none, Some((inbox, 7))).await;
    assert!(matches!(r, Err(Error::NotFound(_))), "{r:?}");
    assert_eq!(uids(&fx.acc.summaries(inbox).await.unwrap()), vec![1, 2]);

    // At a 2-message limit an append is refused, a replacement is not.
    let two = store::QuotaLimits { storage: None, messages: Some(2) };
    assert!(matches!(fx.acc.append_within(inbox, vec![msg(&fx.store, "3")], two).await, Err(Error::OverQuota(_))));
    let before = fx.acc.status(inbox).await.unwrap().highest_modseq;
    let mut new = msg(&fx.store, "new");
    new.meta.preview = Some("new text".into());
    let (_, new_uids, _) = fx.acc.replace_within(inbox, vec![new], two, Some((inbox, 1))).await.unwrap();
    assert_eq!(new_uids, vec![3]);
    assert_eq!(uids(&fx.acc.summaries(inbox).await.unwrap()), vec![2, 3]);
    let ch = fx.acc.changes_since(inbox, before).await.unwrap();
    assert_eq!((ch.expunged, uids(&ch.changed)), (vec![1], vec![3]));

    // Refused by the storage limit: the old message stays, no tombstone.
    let tiny = store::QuotaLimits { storage: Some(1), messages: None };
    let r = fx.acc.replace_within(inbox, vec![msg(&fx.store, "big")], tiny, Some((inbox, 2))).await;
    assert!(matches!(r, Err(Error::OverQuota(_))), "{r:?}");
    assert_eq!(uids(&fx.acc.summaries(inbox).await.unwrap()), vec![2, 3]);
    assert_eq!(fx.acc.changes_since(inbox, before).await.unwrap().expunged, vec![1]);

    // The preview travels with COPY.
    let trash = mailbox_id(&fx.acc, "Trash").await;
    fx.acc.copy(inbox, vec![3], trash).await.unwrap();
    let copied = fx.acc.records(trash, vec![1]).await.unwrap();
    assert_eq!(copied[0].meta.preview.as_deref(), Some("new text"));
}

/// What a snapshot must say, read the slow way from every row.
async fn expected_snapshot(acc: &store::Account, mb: store::MailboxId) -> (Vec<u32>, Option<u32>, u64) {
    let s = acc.summaries(mb).await.unwrap();
    let first_unseen = s.iter().find(|m| !m.flags.has(Flags::SEEN)).map(|m| m.uid);
    (uids(&s), first_unseen, acc.status(mb).await.unwrap().highest_modseq)
}

async fn check_snapshot(
    acc: &store::Account,
    mb: store::MailboxId,
    what: &str,
) -> std::sync::Arc<store::MailboxSnapshot> {
    let snap = acc.snapshot(mb).await.unwrap();
    let (uids, first_unseen, modseq) = expected_snapshot(acc, mb).await;
    assert_eq!(*snap.uids, uids, "{what}: UIDs");
    assert_eq!(snap.first_unseen, first_unseen, "{what}: first unseen");
    assert_eq!(snap.modseq, modseq, "{what}: MODSEQ");
    assert_eq!(snap.uid_next, acc.status(mb).await.unwrap().uid_next, "{what}: UIDNEXT");
    // FETCH FLAGS is answered from it: every message's MODSEQ and flags.
    let from_snapshot: Vec<_> = (0..snap.uids.len()).map(|i| snap.summary(i)).collect();
    assert_eq!(from_snapshot, acc.summaries(mb).await.unwrap(), "{what}: MODSEQs and flags");
    let some: Vec<u32> = uids.iter().copied().step_by(2).chain([9999]).collect();
    let expected: Vec<_> = from_snapshot.iter().step_by(2).cloned().collect();
    assert_eq!(acc.summaries_of(mb, some).await.unwrap(), expected, "{what}: summaries_of");
    snap
}

/// SELECT's cached snapshot (crates/store/src/snapshot.rs) is brought forward
/// through appends, flag changes, expunges, writes by another handle of the
/// data directory (another process) and pruned tombstones, and always equals a
/// fresh read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_follows_every_change() {
    let fx = setup();
    let inbox = mailbox_id(&fx.acc, "INBOX").await;
    let empty = check_snapshot(&fx.acc, inbox, "empty").await;
    assert!(empty.uids.is_empty() && empty.keywords.is_empty());
    let batch: Vec<_> = (0..20).map(|i| msg(&fx.store, &i.to_string())).collect();
    fx.acc.append(inbox, batch).await.unwrap();
    let a = check_snapshot(&fx.acc, inbox, "appended").await;
    // Unchanged mailbox: the very same snapshot, not a new read.
    let b = fx.acc.snapshot(inbox).await.unwrap();
    assert!(std::sync::Arc::ptr_eq(&a, &b), "a current snapshot is shared");

    // Seen on the first five: the first unseen moves on.
    fx.acc.store_flags(inbox, vec![1, 2, 3, 4, 5], FlagOp::Add, flags(Flags::SEEN), None).await.unwrap();
    assert_eq!(check_snapshot(&fx.acc, inbox, "seen 1-5").await.first_unseen, Some(6));
    // The first unseen expunged, one below it unseen again, a keyword.
    fx.acc.store_flags(inbox, vec![6], FlagOp::Add, flags(Flags::DELETED), None).await.unwrap();
    fx.acc.expunge(inbox, Some(vec![6])).await.unwrap();
    let kw = Flags { system: 0, keywords: vec!["$Work".into()] };
    fx.acc.store_flags(inbox, vec![9], FlagOp::Add, kw, None).await.unwrap();
    let s = check_snapshot(&fx.acc, inbox, "expunged first unseen").await;
    assert_eq!(s.first_unseen, Some(7));
    assert_eq!(s.keywords, vec!["$Work".to_string()]);
    fx.acc.store_flags(inbox, vec![3], FlagOp::Remove, flags(Flags::SEEN), None).await.unwrap();
    assert_eq!(check_snapshot(&fx.acc, inbox, "unseen again").await.first_unseen, Some(3));
    // Everything seen, then new mail.
    let all: Vec<u32> = (1..=20).collect();
    fx.acc.store_flags(inbox, all, FlagOp::Add, flags(Flags::SEEN), None).await.unwrap();
    assert_eq!(check_snapshot(&fx.acc, inbox, "all seen").await.first_unseen, None);
    fx.acc.append(inbox, vec![msg(&fx.store, "21")]).await.unwrap();
    assert_eq!(check_snapshot(&fx.acc, inbox, "new mail").await.first_unseen, Some(21));

    // Another process (its own Store and cache) writes: seen through MODSEQ.
    let other = Store::open(fx.dir.path()).unwrap();
    let other_acc = other.account(fx.id).unwrap();
    other_acc.store_flags(inbox, vec![1, 2, 21], FlagOp::Add, flags(Flags::DELETED), None).await.unwrap();
    other_acc.expunge(inbox, Some(vec![1, 2, 21])).await.unwrap();
    other_acc.append(inbox, vec![msg(&other, "22")]).await.unwrap();
    let s = check_snapshot(&fx.acc, inbox, "other process").await;
    assert!(!s.uids.contains(&21) && s.uids.contains(&22));

    // Tombstones pruned past the cached MODSEQ: rebuilt, not brought forward.
    fx.acc.snapshot(inbox).await.unwrap();
    fx.acc.store_flags(inbox, vec![3], FlagOp::Add, flags(Flags::DELETED), None).await.unwrap();
    fx.acc.expunge(inbox, Some(vec![3])).await.unwrap();
    fx.acc.prune_tombstones(i64::MAX).await.unwrap();
    let s = check_snapshot(&fx.acc, inbox, "pruned").await;
    assert!(!s.uids.contains(&3));
}

/// Delivery in one transaction: into the named mailbox, else INBOX (said in
/// `fell_back`); the MODSEQ returned is the mailbox's; the quota is binding.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliver_falls_back_to_inbox_and_reports_modseq() {
    let fx = setup();
    let inbox = mailbox_id(&fx.acc, "INBOX").await;
    fx.acc.create_mailbox("Lists", None).await.unwrap();
    let lists = mailbox_id(&fx.acc, "Lists").await;
    let none = store::QuotaLimits::default();

    let d = fx.acc.deliver("Lists", msg(&fx.store, "1"), none).await.unwrap();
    assert_eq!((d.mailbox, d.fell_back, d.uid, d.usage), (lists, false, 1, None));
    assert_eq!(d.modseq, fx.acc.status(lists).await.unwrap().highest_modseq);

    let d = fx.acc.deliver("Nowhere", msg(&fx.store, "2"), none).await.unwrap();
    assert_eq!((d.mailbox, d.fell_back, d.uid), (inbox, true, 1));
    assert_eq!(d.modseq, fx.acc.status(inbox).await.unwrap().highest_modseq);
    assert!(fx.acc.mailbox("Nowhere").await.unwrap().is_none());

    let two = store::QuotaLimits { storage: None, messages: Some(2) };
    let r = fx.acc.deliver("INBOX", msg(&fx.store, "3"), two).await;
    assert!(matches!(r, Err(Error::OverQuota(_))), "{r:?}");
    assert_eq!(uids(&fx.acc.summaries(inbox).await.unwrap()), vec![1]);
}
