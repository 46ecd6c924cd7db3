//! METADATA entries (RFC 5464) of an account (account_0008) and the
//! server-wide /shared entries of the directory (directory_0004).

mod common;

use common::{mailbox_id, setup};
use store::account::metadata::Depth;
use store::{Change, Error};

fn v(s: &str) -> Option<Vec<u8>> {
    Some(s.as_bytes().to_vec())
}

fn names(rows: &[(String, Vec<u8>)]) -> Vec<&str> {
    rows.iter().map(|(e, _)| e.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_get_depth_and_case() {
    let fx = setup();
    let inbox = mailbox_id(&fx.acc, "INBOX").await;
    let set = vec![
        ("/private/Filters/values/small".to_string(), v("SMALLER 5000")),
        ("/private/filters/values/boss".to_string(), v("FROM boss")),
        ("/private/filters/values/boss/deep".to_string(), v("x")),
        ("/private/filtersx".to_string(), v("not below /private/filters")),
    ];
    fx.acc.set_metadata(Some(inbox), set, 100, 1).await.unwrap();
    let get = |depth| fx.acc.metadata(Some(inbox), vec!["/private/filters/values".into()], depth);
    assert!(get(Depth::Zero).await.unwrap().is_empty());
    let one = get(Depth::One).await.unwrap();
    assert_eq!(names(&one), ["/private/filters/values/boss", "/private/filters/values/small"]);
    assert_eq!(one[1].1, b"SMALLER 5000");
    let all = fx.acc.metadata(Some(inbox), vec!["/PRIVATE/filters".into()], Depth::Infinity).await.unwrap();
    assert_eq!(all.len(), 3, "{:?}", names(&all));
    // Server entries of the account are apart from mailbox entries.
    assert!(fx.acc.metadata(None, vec!["/private".into()], Depth::Infinity).await.unwrap().is_empty());
    fx.acc.set_metadata(None, vec![("/private/devicetoken".into(), v("tok"))], 100, 1).await.unwrap();
    assert_eq!(
        names(&fx.acc.metadata(None, vec!["/private".into()], Depth::Infinity).await.unwrap()),
        ["/private/devicetoken"]
    );
    // NIL removes.
    fx.acc.set_metadata(None, vec![("/private/devicetoken".into(), None)], 100, 1).await.unwrap();
    assert!(fx.acc.metadata(None, vec!["/private/devicetoken".into()], Depth::Zero).await.unwrap().is_empty());
}

/// RFC 5464 §4.3: when one entry cannot be set, none is changed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_changes_nothing() {
    let fx = setup();
    let inbox = mailbox_id(&fx.acc, "INBOX").await;
    let two = vec![("/shared/a".to_string(), v("1")), ("/shared/b".to_string(), v("2"))];
    fx.acc.set_metadata(Some(inbox), two, 2, 1).await.unwrap();
    let more = vec![("/shared/a".to_string(), v("changed")), ("/shared/c".to_string(), v("3"))];
    assert!(matches!(fx.acc.set_metadata(Some(inbox), more, 2, 1).await, Err(Error::TooMany(_))));
    let rows = fx.acc.metadata(Some(inbox), vec!["/shared".into()], Depth::One).await.unwrap();
    assert_eq!(rows, vec![("/shared/a".into(), b"1".to_vec()), ("/shared/b".into(), b"2".to_vec())]);
    // Replacing and removing stay possible at the limit.
    let swap = vec![("/shared/a".to_string(), None), ("/shared/c".to_string(), v("3"))];
    fx.acc.set_metadata(Some(inbox), swap, 2, 1).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_follow_rename_and_go_with_delete() {
    let fx = setup();
    fx.acc.create_mailbox("work", None).await.unwrap();
    let work = mailbox_id(&fx.acc, "work").await;
    fx.acc.set_metadata(Some(work), vec![("/shared/comment".into(), v("w"))], 10, 1).await.unwrap();
    fx.acc.rename_mailbox("work", "job").await.unwrap();
    let job = mailbox_id(&fx.acc, "job").await;
    assert_eq!(fx.acc.metadata(Some(job), vec!["/shared/comment".into()], Depth::Zero).await.unwrap().len(), 1);
    fx.acc.delete_mailbox("job").await.unwrap();
    fx.acc.create_mailbox("job", None).await.unwrap();
    let again = mailbox_id(&fx.acc, "job").await;
    assert!(fx.acc.metadata(Some(again), vec!["/shared".into()], Depth::Infinity).await.unwrap().is_empty());
    assert!(matches!(
        fx.acc.set_metadata(Some(job), vec![("/shared/comment".into(), v("x"))], 10, 1).await,
        Err(Error::NoSuchMailbox(_))
    ));
    // Renaming INBOX copies its entries and keeps them on INBOX (RFC 5464 §4.1).
    let inbox = mailbox_id(&fx.acc, "INBOX").await;
    fx.acc.set_metadata(Some(inbox), vec![("/private/comment".into(), v("i"))], 10, 1).await.unwrap();
    fx.acc.rename_mailbox("INBOX", "old").await.unwrap();
    let old = mailbox_id(&fx.acc, "old").await;
    for mb in [inbox, old] {
        assert_eq!(fx.acc.metadata(Some(mb), vec!["/private/comment".into()], Depth::Zero).await.unwrap().len(), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_are_published_once_with_origin() {
    let fx = setup();
    let inbox = mailbox_id(&fx.acc, "INBOX").await;
    let mut feed = fx.acc.subscribe();
    fx.acc.set_metadata(Some(inbox), vec![("/shared/Comment".into(), v("x"))], 10, 7).await.unwrap();
    assert_eq!(
        feed.try_recv().unwrap(),
        Change::Metadata { mailbox: Some(inbox), entries: vec!["/shared/comment".into()], origin: 7 }
    );
    // Setting the same value again, or removing a missing entry, changes nothing.
    fx.acc.set_metadata(Some(inbox), vec![("/shared/comment".into(), v("x"))], 10, 7).await.unwrap();
    fx.acc.set_metadata(Some(inbox), vec![("/shared/none".into(), None)], 10, 7).await.unwrap();
    assert!(feed.try_recv().is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_shared_entries_in_the_directory() {
    let fx = setup();
    assert!(fx.store.set_server_metadata("/shared/vendor/deltachat/irohrelay", Some(b"https://relay")).unwrap());
    assert!(!fx.store.set_server_metadata("/shared/vendor/deltachat/irohrelay", Some(b"https://relay")).unwrap());
    assert!(matches!(fx.store.set_server_metadata("/private/x", Some(b"1")), Err(Error::InvalidName(_))));
    let rows = fx.store.server_metadata(&["/shared".into()], Depth::Infinity).unwrap();
    assert_eq!(rows, vec![("/shared/vendor/deltachat/irohrelay".into(), b"https://relay".to_vec())]);
    assert!(fx.store.server_metadata(&["/shared".into()], Depth::One).unwrap().is_empty());
    assert!(fx.store.set_server_metadata("/shared/vendor/deltachat/irohrelay", None).unwrap());
    assert!(fx.store.server_metadata(&["/shared".into()], Depth::Infinity).unwrap().is_empty());
}
