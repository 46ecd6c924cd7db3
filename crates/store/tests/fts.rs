//! The full-text index (issue #7): documents are written in the message's
//! transaction, shared by copies, removed with the last message, and a
//! rolled-back insert leaves nothing behind.

mod common;

use common::*;
use store::{MessageText, NewMessage, TextField, TextTerm};

fn with_text(store: &store::Store, subject: &str, body: &str) -> NewMessage {
    let mut m = msg(store, subject);
    m.meta.text = Some(MessageText {
        subject: subject.to_lowercase(),
        body: body.to_lowercase(),
        headers: format!("subject: {}\n", subject.to_lowercase()),
        ..MessageText::default()
    });
    m
}

fn body(needle: &str) -> Vec<TextTerm> {
    vec![TextTerm { fields: vec![TextField::Body], needle: needle.into() }]
}

fn db(fx: &Fixture) -> rusqlite::Connection {
    rusqlite::Connection::open(fx.dir.path().join(format!("accounts/{}/index.sqlite", fx.id.0))).unwrap()
}

fn documents(fx: &Fixture) -> i64 {
    db(fx).query_row("SELECT count(*) FROM message_text_docsize", [], |r| r.get(0)).unwrap()
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
            (u, MessageText { body: body.into(), ..MessageText::default() })
        })
        .collect();
    assert_eq!(fx.acc.index_text(docs).await.unwrap(), 3);
    assert_eq!(fx.acc.unindexed_count().await.unwrap(), 0);
    assert_eq!(fx.acc.text_candidates(inbox, body("zeppelin")).await.unwrap(), Some(vec![2]));
}
