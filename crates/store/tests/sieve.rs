//! Sieve scripts, errors, vacation and duplicate tracking (account_0005).

use store::{Error, Store};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripts_lifecycle() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let id = store.create_account("alice", "h").unwrap();
    let acc = store.account(id).unwrap();
    assert!(acc.sieve_scripts().await.unwrap().is_empty());
    acc.put_sieve_script("a", "keep;").await.unwrap();
    acc.put_sieve_script("b", "discard;").await.unwrap();
    acc.set_sieve_active(Some("b")).await.unwrap();
    assert_eq!(acc.sieve_active().await.unwrap(), Some(("b".into(), "discard;".into())));
    acc.set_sieve_active(Some("a")).await.unwrap();
    let list = acc.sieve_scripts().await.unwrap();
    assert_eq!(
        list.iter().map(|s| (s.name.as_str(), s.active, s.size)).collect::<Vec<_>>(),
        [("a", true, 5), ("b", false, 8)]
    );
    assert!(matches!(acc.set_sieve_active(Some("zz")).await, Err(Error::NotFound(_))));
    assert!(matches!(acc.delete_sieve_script("a").await, Err(Error::NotAllowed(_))));
    assert!(matches!(acc.rename_sieve_script("a", "b").await, Err(Error::Exists(_))));
    acc.set_sieve_error("a", "line 1: boom").await.unwrap();
    acc.rename_sieve_script("a", "c").await.unwrap();
    assert_eq!(acc.sieve_error("c").await.unwrap().unwrap().message, "line 1: boom");
    assert_eq!(acc.sieve_active().await.unwrap().unwrap().0, "c");
    acc.put_sieve_script("c", "stop;").await.unwrap();
    assert_eq!(acc.sieve_error("c").await.unwrap(), None, "replacing a script forgets its error");
    assert_eq!(acc.sieve_active().await.unwrap().unwrap().1, "stop;", "replacing keeps it active");
    acc.set_sieve_active(None).await.unwrap();
    assert_eq!(acc.sieve_active().await.unwrap(), None);
    acc.delete_sieve_script("c").await.unwrap();
    assert!(matches!(acc.delete_sieve_script("c").await, Err(Error::NotFound(_))));
    assert_eq!(acc.sieve_script("b").await.unwrap().as_deref(), Some("discard;"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vacation_and_duplicate_memory() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let acc = store.account(store.create_account("alice", "h").unwrap()).unwrap();
    assert!(acc.vacation_claim("h", "Bob@x", 3600).await.unwrap());
    assert!(!acc.vacation_claim("h", "bob@x", 3600).await.unwrap());
    assert!(acc.vacation_claim("other", "bob@x", 3600).await.unwrap());
    assert!(acc.vacation_claim("h", "bob@x", 0).await.unwrap(), "period 0 always answers");
    assert!(!acc.sieve_duplicate("d", "<1@x>", 3600, false).await.unwrap());
    assert!(acc.sieve_duplicate("d", "<1@x>", 3600, false).await.unwrap());
    assert!(!acc.sieve_duplicate("d", "<2@x>", 3600, false).await.unwrap());
}
