//! Delivery addresses and served domains in `directory.sqlite`.

use store::{Error, Store};

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    for name in ["alice", "bob", "carol"] {
        store.create_account(name, "$argon2id$x").unwrap();
    }
    (dir, store)
}

fn who(store: &Store, address: &str) -> Option<(String, Option<String>)> {
    store.resolve_recipient(address, "+").unwrap().map(|r| (r.name, r.detail))
}

fn is(name: &str) -> Option<(String, Option<String>)> {
    Some((name.to_string(), None))
}

#[test]
fn names_and_served_domains() {
    let (_dir, store) = store();
    // No domain configured: every domain is served.
    assert_eq!(who(&store, "alice"), is("alice"));
    assert_eq!(who(&store, "<Alice@Anywhere.Test>"), is("alice"));
    assert_eq!(who(&store, "nobody@anywhere.test"), None);
    assert_eq!(who(&store, ""), None);
    assert_eq!(who(&store, "<>"), None);
    store.add_domain("Example.Test").unwrap();
    assert!(matches!(store.add_domain("example.test"), Err(Error::Exists(_))));
    assert_eq!(store.list_domains().unwrap(), vec!["example.test"]);
    assert_eq!(who(&store, "alice@example.test"), is("alice"));
    assert_eq!(who(&store, "alice@anywhere.test"), None, "only listed domains once one is listed");
    assert_eq!(who(&store, "alice"), is("alice"));
    store.delete_domain("example.test").unwrap();
    assert!(matches!(store.delete_domain("example.test"), Err(Error::NotFound(_))));
    assert!(store.add_domain("a b").is_err());
    assert!(store.add_domain("x@y").is_err());
}

#[test]
fn addresses_detail_and_catch_all() {
    let (_dir, store) = store();
    store.add_domain("example.test").unwrap();
    store.add_address("Postmaster@Other.Test", "bob").unwrap();
    assert!(matches!(store.add_address("postmaster@other.test", "alice"), Err(Error::Exists(_))));
    assert!(matches!(store.add_address("x@other.test", "nobody"), Err(Error::NoSuchAccount(_))));
    assert!(store.add_address("no-at-sign", "bob").is_err());
    // An assigned address works in a domain that is not served by name.
    assert_eq!(who(&store, "postmaster@other.test"), is("bob"));
    assert_eq!(who(&store, "bob@other.test"), None);
    // Subaddresses keep the detail.
    assert_eq!(who(&store, "alice+lists@example.test"), Some(("alice".into(), Some("lists".into()))));
    assert_eq!(who(&store, "alice+"), Some(("alice".into(), Some("".into()))));
    assert_eq!(who(&store, "postmaster+x@other.test"), Some(("bob".into(), Some("x".into()))));
    assert_eq!(who(&store, "+x@example.test"), None);
    // A different separator.
    assert_eq!(store.resolve_recipient("alice-x@example.test", "-").unwrap().unwrap().detail.as_deref(), Some("x"));
    assert_eq!(store.resolve_recipient("alice+x@example.test", "").unwrap(), None);
    // Catch-all: only for its domain, after every other rule.
    store.add_address("@example.test", "carol").unwrap();
    assert_eq!(who(&store, "whoever@example.test"), is("carol"));
    assert_eq!(who(&store, "alice@example.test"), is("alice"));
    assert_eq!(who(&store, "whoever@other.test"), None);
    let list: Vec<(String, String)> =
        store.list_addresses().unwrap().into_iter().map(|a| (a.address, a.account)).collect();
    assert_eq!(list, vec![("@example.test".into(), "carol".into()), ("postmaster@other.test".into(), "bob".into())]);
    store.delete_address("@example.test").unwrap();
    assert_eq!(who(&store, "whoever@example.test"), None);
    assert!(matches!(store.delete_address("@example.test"), Err(Error::NotFound(_))));
    // Deleting an account deletes its addresses.
    store.delete_account("bob").unwrap();
    assert!(store.list_addresses().unwrap().is_empty());
}
