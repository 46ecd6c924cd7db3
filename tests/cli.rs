//! The `postfach` binary's user commands, run as a subprocess against a
//! temporary data directory. All but `invalid_name_is_rejected`,
//! `missing_data_dir_is_an_error` and `help_lists_the_commands` need a working
//! store (`crates/store`).

mod common;

use std::path::Path;
use std::process::Output;

fn postfach(data: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    common::postfach_cli(data, args, stdin.unwrap_or_default().as_bytes())
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
fn ok(o: &Output) -> String {
    assert!(o.status.success(), "failed: stdout={} stderr={}", stdout(o), stderr(o));
    stdout(o)
}

#[track_caller]
fn fails(o: &Output) -> String {
    assert!(!o.status.success(), "unexpectedly succeeded: {}", stdout(o));
    stderr(o)
}

fn list(data: &Path) -> Vec<String> {
    ok(&postfach(data, &["user", "list"], None)).lines().map(str::to_owned).collect()
}

/// Needs the store.
#[test]
fn add_list_passwd_del() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    let out = ok(&postfach(&data, &["user", "add", "alice", "--password-stdin"], Some("s3cret pass\n")));
    assert!(!out.contains("s3cret"), "{out}");
    assert!(list(&data).contains(&"alice".to_owned()));

    // The stored hash verifies the password read from stdin.
    let store = store::Store::open(&data).unwrap();
    let (_, hash) = store.password_hash("alice").unwrap().unwrap();
    assert!(postfach::auth::verify_password(&hash, "s3cret pass"));
    assert!(postfach::auth::authenticate(&store, "alice", "s3cret pass").is_some());
    assert!(postfach::auth::authenticate(&store, "alice", "wrong").is_none());
    assert!(postfach::auth::authenticate(&store, "nobody", "s3cret pass").is_none());

    // Adding twice fails.
    let err = fails(&postfach(&data, &["user", "add", "alice", "--password-stdin"], Some("x\n")));
    assert!(err.contains("alice"), "{err}");

    ok(&postfach(&data, &["user", "passwd", "alice", "--password-stdin"], Some("new pass\n")));
    let (_, hash) = store.password_hash("alice").unwrap().unwrap();
    assert!(postfach::auth::verify_password(&hash, "new pass"));
    assert!(!postfach::auth::verify_password(&hash, "s3cret pass"));

    // Without --password-stdin a password is generated and printed.
    let out = ok(&postfach(&data, &["user", "passwd", "alice"], None));
    let generated = out.trim().strip_prefix("alice password: ").expect(&out);
    assert_eq!(generated.len(), 20);
    let (_, hash) = store.password_hash("alice").unwrap().unwrap();
    assert!(postfach::auth::verify_password(&hash, generated));

    ok(&postfach(&data, &["user", "del", "alice"], None));
    assert!(!list(&data).contains(&"alice".to_owned()));
    fails(&postfach(&data, &["user", "del", "alice"], None));
    let err = fails(&postfach(&data, &["user", "passwd", "alice", "--password-stdin"], Some("x\n")));
    assert!(err.contains("does not exist"), "{err}");
}

/// Needs the store.
#[test]
fn generated_password_is_printed() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(&postfach(dir.path(), &["user", "add", "bob@example.org"], None));
    let password = out.trim().strip_prefix("bob@example.org password: ").expect(&out);
    assert_eq!(password.len(), 20);
    assert!(password.chars().all(|c| c.is_ascii_alphanumeric()));
    let store = store::Store::open(dir.path()).unwrap();
    assert!(postfach::auth::authenticate(&store, "bob@example.org", password).is_some());
    assert_eq!(list(dir.path()), vec!["bob@example.org".to_owned()]);
}

#[test]
fn invalid_name_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    for bad in ["Alice", "al ice", "a/b", ""] {
        let err = fails(&postfach(dir.path(), &["user", "add", bad, "--password-stdin"], Some("pw\n")));
        assert!(err.contains("invalid account name"), "{bad:?}: {err}");
    }
}

/// Needs the store.
#[test]
fn empty_stdin_password_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let err = fails(&postfach(dir.path(), &["user", "add", "carol", "--password-stdin"], Some("")));
    assert!(err.contains("no password on standard input"), "{err}");
    assert!(!list(dir.path()).contains(&"carol".to_owned()));
}

#[test]
fn missing_data_dir_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let err = fails(&postfach(&missing, &["user", "list"], None));
    assert!(err.contains("cannot open data directory"), "{err}");
    assert!(!missing.exists());
}

#[test]
fn help_lists_the_commands() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(&postfach(dir.path(), &["--help"], None));
    assert!(out.contains("serve") && out.contains("user"), "{out}");
    let out = ok(&postfach(dir.path(), &["serve", "--help"], None));
    assert!(out.contains("--imap") && out.contains("--imaps"), "{out}");
}

#[test]
fn address_and_domain_commands() {
    let dir = tempfile::tempdir().unwrap();
    ok(&postfach(dir.path(), &["user", "add", "alice", "--password-stdin"], Some("pw\n")));
    ok(&postfach(dir.path(), &["domain", "add", "Example.ORG"], None));
    assert_eq!(ok(&postfach(dir.path(), &["domain", "list"], None)), "example.org\n");
    ok(&postfach(dir.path(), &["address", "add", "info@example.org", "--user", "alice"], None));
    ok(&postfach(dir.path(), &["address", "add", "@example.net", "--user", "alice"], None));
    assert_eq!(ok(&postfach(dir.path(), &["address", "list"], None)), "@example.net alice\ninfo@example.org alice\n");
    assert!(!postfach(dir.path(), &["address", "add", "x@example.org", "--user", "nobody"], None).status.success());
    ok(&postfach(dir.path(), &["address", "del", "info@example.org"], None));
    ok(&postfach(dir.path(), &["domain", "del", "example.org"], None));
    assert_eq!(ok(&postfach(dir.path(), &["address", "list"], None)), "@example.net alice\n");
}
