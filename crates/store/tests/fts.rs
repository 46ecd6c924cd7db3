//! The full-text index (issue #7): documents are written in the message's
//! transaction, shared by copies, removed with the last message, and a
//! rolled-back insert leaves nothing behind; pending documents are
//! candidates until the writer folds them into the index.

mod common;

use common::*;
use std::time::Duration;

use store::{MessageText, NewMessage, TextDoc, TextField, TextTerm};

fn with_text(store: &store::Store, subject: &str, body: &str) -> NewMessage {
    let mut m = msg(store, subject);
    m.meta.text = Some(TextDoc::new(&MessageText {
        subject: subject.to_lowercase(),
        body: body.to_lowercase(),
        headers: format!("subject: {}\n", subject.to_lowercase()),
        ..MessageText::default()
    }));
    m
}

fn body(needle: &str) -> Vec<TextTerm> {
    vec![TextTerm { fields: vec![TextField::Body], needle: needle.into() }]
}

fn db(fx: &Fixture) -> rusqlite::Connection {
    rusqlite::Connection::open(fx.dir.path().join(format!("accounts/{}/index.sqlite", fx.id.0))).unwrap()
}

/// Documents in the index, folded or pending.
fn documents(fx: &Fixture) -> i64 {
    db(fx)
        .query_row(
            "SELECT (SELECT count(*) FROM message_text_docsize) + (SELECT count(*) FROM message_text_pending)",
            [],
            |r| r.get(0),
        )
        .unwrap()
}

fn pending(fx: &Fixture) -> i64 {
    db(fx).query_row("SELECT count(*) FROM message_text_pending", [], |r| r.get(0)).unwrap()
}

/// Waits (bounded) until the writer has folded every pending document.
async fn until_folded(fx: &Fixture) {
    for _ in 0..500 {
        if pending(fx) == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{} documents still pending", pending(fx));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn candidates_follow_append_copy_move_expunge() {
    let fx = setup();
    let inbox = mailbox_id(&fx.acc, "INBOX").await;
    let archive = mailbox_id(&fx.acc, "Archive").await;
    let (_, uids) = fx
        .acc
        .append(
            inbox,
            vec![
                with_text(&fx.store, "one", "the zeppelin flies"),
                with_text(&fx.store, "two", "a submarine dives"),
                with_text(&fx.store, "three", "Zeppelins über München"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(uids, vec![1, 2, 3]);
    assert_eq!(documents(&fx), 3);
    let c = |mb, n: &str| {
        let acc = fx.acc.clone();
        let terms = body(n);
        async move { acc.text_candidates(mb, terms).await.unwrap() }
    };
    // Pending documents narrow nothing; folded ones do.
    assert_eq!(c(inbox, "zeppelin").await, Some(vec![1, 2, 3]));
    fx.acc.fold_text_index().await.unwrap();
    assert_eq!((pending(&fx), documents(&fx)), (0, 3));
    assert_eq!(c(inbox, "zeppelin").await, Some(vec![1, 3]));
    assert_eq!(c(inbox, "über m").await, Some(vec![3]));
    assert_eq!(c(inbox, "nowhere").await, Some(vec![]));
    // Too short to narrow.
    assert_eq!(c(inbox, "ze").await, None);

    // COPY shares the document; MOVE keeps it; the last expunge removes it.
    let copied = fx.acc.copy(inbox, vec![1], archive).await.unwrap();
    assert_eq!(documents(&fx), 3);
    assert_eq!(c(archive, "zeppelin").await, Some(vec![copied.mapping[0].1]));
    fx.acc.store_flags(inbox, vec![1], store::FlagOp::Add, flags(store::Flags::DELETED), None).await.unwrap();
    fx.acc.expunge(inbox, None).await.unwrap();
    assert_eq!(documents(&fx), 3, "the copy in Archive still uses the document");
    assert_eq!(c(inbox, "zeppelin").await, Some(vec![3]));
    let moved = fx.acc.move_messages(archive, vec![copied.mapping[0].1], inbox).await.unwrap();
    assert_eq!(c(inbox, "zeppelin").await, Some(vec![3, moved.mapping[0].1]));
    assert_eq!(c(archive, "zeppelin").await, Some(vec![]));
    fx.acc
        .store_flags(inbox, vec![moved.mapping[0].1], store::FlagOp::Add, flags(store::Flags::DELETED), None)
        .await
        .unwrap();
    fx.acc.expunge(inbox, None).await.unwrap();
    assert_eq!(documents(&fx), 2);
    // Deleting a mailbox removes its documents too.
    let tmp = fx.acc.create_mailbox("tmp", None).await.unwrap();
    fx.acc.append(tmp, vec![with_text(&fx.store, "four", "only here")]).await.unwrap();
    assert_eq!(documents(&fx), 3);
    fx.acc.delete_mailbox("tmp").await.unwrap();
    assert_eq!(documents(&fx), 2);
}

/// The same bytes appended twice share one document.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_messages_share_a_document() {
    let fx = setup();
    let inbox = mailbox_id(&fx.acc, "INBOX").await;
    let m = with_text(&fx.store, "same", "same text");
    fx.acc.append(inbox, vec![m.clone(), m.clone()]).await.unwrap();
    fx.acc.append(inbox, vec![m]).await.unwrap();
    assert_eq!(documents(&fx), 1);
    let got = fx.acc.text_candidates(inbox, body("same")).await.unwrap();
    assert_eq!(got, Some(vec![1, 2, 3]));
}

/// A message whose insert fails leaves no document: the document is written
/// in the message's transaction and rolled back with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_insert_leaves_no_document() {
    let fx = setup();
    let inbox = mailbox_id(&fx.acc, "INBOX").await;
    db(&fx)
        .execute_batch(
            "CREATE TRIGGER refuse BEFORE INSERT ON messages WHEN NEW.subject = 'boom'
             BEGIN SELECT RAISE(ABORT, 'refused'); END;",
        )
        .unwrap();
    let r = fx
        .acc
        .append(inbox, vec![with_text(&fx.store, "fine", "findable words"), with_text(&fx.store, "boom", "more words")])
        .await;
    assert!(r.is_err());
    assert_eq!(documents(&fx), 0);
    assert_eq!(fx.acc.text_candidates(inbox, body("words")).await.unwrap(), Some(vec![]));
    assert_eq!(fx.acc.status(inbox).await.unwrap().messages, 0);
    // The writer goes on; the next append is indexed.
    fx.acc.append(inbox, vec![with_text(&fx.store, "fine", "findable words")]).await.unwrap();
    assert_eq!(documents(&fx), 1);
}

/// Messages without a document (stored before the index, or after it was
/// cleared) are always candidates; indexing them narrows again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unindexed_messages_are_candidates_until_indexed() {
    let fx = setup();
    let inbox = mailbox_id(&fx.acc, "INBOX").await;
    fx.acc.append(inbox, vec![msg(&fx.store, "plain")]).await.unwrap();
    fx.acc.append(inbox, vec![with_text(&fx.store, "x", "zeppelin"), with_text(&fx.store, "y", "boat")]).await.unwrap();
    fx.acc.fold_text_index().await.unwrap();
    assert_eq!(fx.acc.unindexed_count().await.unwrap(), 1);
    assert_eq!(fx.acc.text_candidates(inbox, body("zeppelin")).await.unwrap(), Some(vec![1, 2]));
    fx.acc.clear_text_index().await.unwrap();
    assert_eq!(documents(&fx), 0);
    assert_eq!(fx.acc.unindexed_count().await.unwrap(), 3);
    assert_eq!(fx.acc.text_candidates(inbox, body("zeppelin")).await.unwrap(), Some(vec![1, 2, 3]));
    let groups = fx.acc.unindexed().await.unwrap();
    assert_eq!(groups.len(), 3);
    let docs = groups
        .into_iter()
        .map(|u| {
            let body = if u.subject == "x" { "zeppelin" } else { "other" };
            (u, TextDoc::new(&MessageText { body: body.into(), ..MessageText::default() }))
        })
        .collect();
    assert_eq!(fx.acc.index_text(docs).await.unwrap(), 3);
    assert_eq!(fx.acc.unindexed_count().await.unwrap(), 0);
    fx.acc.fold_text_index().await.unwrap();
    assert_eq!(fx.acc.text_candidates(inbox, body("zeppelin")).await.unwrap(), Some(vec![2]));
}

/// The writer folds pending documents by itself: a batch once
/// `FOLD_AT` wait, the rest when it has been idle a while.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_writer_folds_pending_documents() {
    let fx = setup();
    let inbox = mailbox_id(&fx.acc, "INBOX").await;
    for i in 0..store::account::fts::FOLD_AT {
        let b = if i == 0 { "the zeppelin flies" } else { "a boat" };
        fx.acc.append(inbox, vec![with_text(&fx.store, &format!("m{i}"), b)]).await.unwrap();
    }
    until_folded(&fx).await;
    assert_eq!(documents(&fx), store::account::fts::FOLD_AT as i64);
    assert_eq!(fx.acc.text_candidates(inbox, body("zeppelin")).await.unwrap(), Some(vec![1]));
    // One more, then no writes: folded after FOLD_IDLE.
    fx.acc.append(inbox, vec![with_text(&fx.store, "last", "zeppelin again")]).await.unwrap();
    until_folded(&fx).await;
    let last = store::account::fts::FOLD_AT as u32 + 1;
    assert_eq!(fx.acc.text_candidates(inbox, body("zeppelin")).await.unwrap(), Some(vec![1, last]));
}

/// Pending documents survive the account closing or the process dying: the
/// writer folds what it finds when the account opens again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_documents_are_folded_after_a_restart() {
    let fx = setup();
    let inbox = mailbox_id(&fx.acc, "INBOX").await;
    let two = vec![with_text(&fx.store, "one", "the zeppelin flies"), with_text(&fx.store, "two", "a boat")];
    fx.acc.append(inbox, two).await.unwrap();
    // Closes the account (its only handle) and opens it again.
    let reopen = |fx: Fixture| {
        let Fixture { dir, store, id, acc } = fx;
        drop(acc);
        // The store holds unused accounts open for a while; let go now.
        store.close_unused();
        Fixture { acc: store.account(id).unwrap(), dir, store, id }
    };
    let fx = reopen(fx);
    assert_eq!((pending(&fx), documents(&fx)), (0, 2), "folded when the account closed");
    // As if the process had died with a document pending: the writer of
    // the open account does not know about it until it opens again.
    db(&fx)
        .execute_batch(
            "INSERT INTO message_text_pending (subject, from_addr, to_addr, cc_addr, bcc, headers, body)
                 VALUES ('', '', '', '', '', '', 'boa oat');
             UPDATE messages SET text_id = last_insert_rowid() WHERE uid = 1;",
        )
        .unwrap();
    let fx = reopen(fx);
    until_folded(&fx).await;
    assert_eq!(fx.acc.text_candidates(inbox, body("boat")).await.unwrap(), Some(vec![1, 2]));
    assert_eq!(fx.acc.text_candidates(inbox, body("zeppelin")).await.unwrap(), Some(vec![]));
}
