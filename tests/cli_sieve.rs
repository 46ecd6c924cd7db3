//! `postfach sieve …` run as a subprocess: the script commands against a data
//! directory (also while a server runs on it), and `sieve test`'s output
//! format (docs/sieve.md) for each kind of action.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

fn postfach(data: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    common::postfach_cli(data, args, stdin.unwrap_or_default().as_bytes())
}

#[track_caller]
fn ok(o: &Output) -> String {
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "failed: stdout={out} stderr={}", String::from_utf8_lossy(&o.stderr));
    out
}

/// Stdout and stderr of a command that must fail.
#[track_caller]
fn fails(o: &Output) -> (String, String) {
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(!o.status.success(), "unexpectedly succeeded: {out}");
    (out, String::from_utf8_lossy(&o.stderr).into_owned())
}

fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p
}

/// A data directory with account alice.
fn data_with_alice() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ok(&postfach(&data, &["user", "add", "alice", "--password-stdin"], Some("pw\n")));
    (dir, data)
}

const U: [&str; 2] = ["--user", "alice"];

#[test]
fn put_get_list_activate_deactivate_delete() {
    let (dir, data) = data_with_alice();
    let file = write(
        dir.path(),
        "lists.sieve",
        "require \"fileinto\";\nif header :contains \"subject\" \"[x]\" { fileinto \"X\"; }\n",
    );
    ok(&postfach(&data, &["sieve", "put", "lists", file.to_str().unwrap(), "--user", "alice"], None));
    // From standard input, activated at once.
    ok(&postfach(&data, &["sieve", "put", "vacation", "--user", "alice", "--activate"], Some("keep;\n")));
    assert_eq!(ok(&postfach(&data, &["sieve", "list", "--user", "alice"], None)), "  lists\n* vacation\n");
    assert_eq!(
        ok(&postfach(&data, &["sieve", "get", "lists", "--user", "alice"], None)),
        std::fs::read_to_string(&file).unwrap()
    );
    ok(&postfach(&data, &["sieve", "activate", "lists", "--user", "alice"], None));
    assert_eq!(ok(&postfach(&data, &["sieve", "list", "--user", "alice"], None)), "* lists\n  vacation\n");
    // The active script cannot be deleted.
    let (_, err) = fails(&postfach(&data, &["sieve", "delete", "lists", "--user", "alice"], None));
    assert!(err.contains("deactivate it first"), "{err}");
    let (_, err) = fails(&postfach(&data, &["sieve", "deactivate", "vacation", "--user", "alice"], None));
    assert!(err.contains("is not the active script"), "{err}");
    ok(&postfach(&data, &["sieve", "deactivate", "lists", "--user", "alice"], None));
    assert_eq!(ok(&postfach(&data, &["sieve", "list", "--user", "alice"], None)), "  lists\n  vacation\n");
    ok(&postfach(&data, &["sieve", "delete", "lists", "--user", "alice"], None));
    assert_eq!(ok(&postfach(&data, &["sieve", "list", "--user", "alice"], None)), "  vacation\n");
    // Missing scripts and accounts.
    for args in [["get", "lists"], ["activate", "lists"], ["delete", "lists"]] {
        let (_, err) = fails(&postfach(&data, &["sieve", args[0], args[1], U[0], U[1]], None));
        assert!(err.contains("has no script \"lists\""), "{args:?}: {err}");
    }
    let (_, err) = fails(&postfach(&data, &["sieve", "list", "--user", "bob"], None));
    assert!(err.contains("account bob does not exist"), "{err}");
}

/// RFC 5804 §2.6: PUTSCRIPT refuses a script that does not compile; the CLI
/// does the same and says where.
#[test]
fn put_refuses_an_invalid_script_with_line_and_column() {
    let (dir, data) = data_with_alice();
    let file = write(dir.path(), "bad.sieve", "require \"fileinto\";\n\nif hedaer :is \"x\" \"y\" { keep; }\n");
    let (_, err) = fails(&postfach(&data, &["sieve", "put", "bad", file.to_str().unwrap(), U[0], U[1]], None));
    assert!(err.contains("bad.sieve:3:4: unknown test `hedaer`, did you mean `header`?"), "{err}");
    let (_, err) = fails(&postfach(&data, &["sieve", "put", "bad", U[0], U[1]], Some("fileinto \"x\";")));
    assert!(err.contains("<stdin>:1:1:"), "{err}");
    assert!(err.contains("require"), "{err}");
    let (_, err) = fails(&postfach(&data, &["sieve", "put", "bad\nname", U[0], U[1]], Some("keep;")));
    assert!(err.contains("invalid script name"), "{err}");
    let big = "#".repeat(64 * 1024 + 1);
    let (_, err) = fails(&postfach(&data, &["sieve", "put", "big", U[0], U[1]], Some(&big)));
    assert!(err.contains("max_script_size"), "{err}");
    // Nothing was stored.
    assert_eq!(ok(&postfach(&data, &["sieve", "list", U[0], U[1]], None)), "");
}

/// The commands work on the data directory of a running server, and the next
/// delivery runs the new script.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_while_the_server_runs() {
    let server = common::start().await;
    let data = server.dir.path().to_path_buf();
    let script =
        "require [\"fileinto\", \"mailbox\"];\nif header :contains \"subject\" \"report\" { fileinto :create \"Reports\"; }\n";
    let out = tokio::task::spawn_blocking({
        let data = data.clone();
        move || postfach(&data, &["sieve", "put", "sort", "--user", "alice", "--activate"], Some(script))
    })
    .await
    .unwrap();
    ok(&out);
    let mut lmtp = common::Lmtp::hello(server.lmtp_addr).await;
    let r = lmtp.deliver("a@example.org", &["alice@example.org"], &common::message("weekly report", "numbers")).await;
    assert!(r[0].starts_with("250"), "{r:?}");
    let account = server.store.account(server.store.account_id("alice").unwrap().unwrap()).unwrap();
    let boxes = account.mailboxes().await.unwrap();
    assert!(boxes.iter().any(|m| m.name == "Reports"), "{boxes:?}");
}

const MSG: &str = "Return-Path: <coyote@desert.example.org>\n\
From: Wile <coyote@desert.example.org>\n\
To: alice@example.com\n\
Subject: [acme] new catalogue\n\
Message-ID: <1@desert.example.org>\n\
X-Spam-Score: 8.2\n\
\n\
Rockets, anvils, birdseed.\n";

/// Runs `sieve test` on `script` and MSG; returns stdout.
fn test_script(script: &str, extra: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let s = write(dir.path(), "s.sieve", script);
    let m = write(dir.path(), "m.eml", MSG);
    let mut args = vec!["sieve", "test", s.to_str().unwrap(), m.to_str().unwrap()];
    args.extend_from_slice(extra);
    // `test` needs no data directory.
    postfach(&dir.path().join("no-data"), &args, None)
}

#[test]
fn test_prints_fileinto_with_flags_and_implicit_keep() {
    let s = r#"require ["fileinto", "imap4flags"];
if header :contains "subject" "[acme]" { fileinto :flags ["\\Seen", "$Acme"] "Lists"; }"#;
    assert_eq!(ok(&test_script(s, &[])), "fileinto \"Lists\" :flags \"\\\\Seen $Acme\"\n");
    assert_eq!(
        ok(&test_script("require \"imap4flags\"; addflag \"\\\\Flagged\";", &[])),
        "keep :flags \"\\\\Flagged\"\n"
    );
    assert_eq!(ok(&test_script("# nothing\n", &[])), "keep\n");
}

#[test]
fn test_prints_redirect_discard_reject() {
    let s = "require \"copy\"; redirect :copy \"boss@example.com\"; redirect \"a@b.example\";";
    assert_eq!(ok(&test_script(s, &[])), "redirect \"boss@example.com\" :copy\nredirect \"a@b.example\"\n");
    assert_eq!(ok(&test_script("if size :over 10 { discard; }", &[])), "discard\n");
    let s = "require \"reject\"; reject text:\nNo \"catalogues\",\nthanks.\n.\n;";
    assert_eq!(ok(&test_script(s, &[])), "reject \"No \\\"catalogues\\\",\\r\\nthanks.\\r\\n\"\n");
}

#[test]
fn test_prints_vacation_and_why_it_is_not_sent() {
    let s = "require \"vacation\"; vacation :days 2 :subject \"Away\" \"Back on Monday.\";";
    let out = ok(&test_script(s, &["--from", "coyote@desert.example.org", "--to", "alice@example.com"]));
    let handle = out.split("handle=\"").nth(1).and_then(|h| h.split('"').next()).expect(&out).to_string();
    assert_eq!(
        out,
        format!(
            "vacation to=\"coyote@desert.example.org\" subject=\"Away\" period=172800 handle=\"{handle}\" reason=\"Back on Monday.\"\nkeep\n"
        )
    );
    // Null sender: no reply (RFC 5230 §4.5), and the reason is shown.
    let out = ok(&test_script(s, &["--to", "alice@example.com"]));
    assert_eq!(out, "keep\n# vacation not sent: the message has no return path\n");
}

#[test]
fn test_prints_a_runtime_error_and_the_keep() {
    let s = "require \"fileinto\";\nfileinto \"A\";\n  if true { error \"broken\"; }";
    let s = s.replace("require \"fileinto\";", "require [\"fileinto\", \"ihave\"];");
    assert_eq!(ok(&test_script(&s, &[])), "error 3:13 broken\nkeep\n");
    // A compile error: `error` and exit status 1.
    let (out, err) = fails(&test_script("require \"fileinto\";\nfileinto :bogus \"x\";", &[]));
    assert!(out.starts_with("error 2:10 "), "{out}");
    assert!(err.contains("s.sieve:2:10:"), "{err}");
}

#[test]
fn test_with_mailbox_exists_and_editheader() {
    let s = r#"require ["mailbox", "fileinto", "editheader"];
addheader "X-Checked" "yes";
if mailboxexists "Acme" { fileinto "Acme"; } else { fileinto :create "New"; }"#;
    assert_eq!(ok(&test_script(s, &[])), "fileinto \"New\" :create\naddheader \"X-Checked\" \"yes\"\n");
    assert_eq!(
        ok(&test_script(s, &["--mailbox-exists", "Other", "Acme"])),
        "fileinto \"Acme\"\naddheader \"X-Checked\" \"yes\"\n"
    );
    assert_eq!(
        ok(&test_script(s, &["--mailbox-exists", "Other", "--mailbox-exists", "Acme"])),
        "fileinto \"Acme\"\naddheader \"X-Checked\" \"yes\"\n"
    );
}

/// spamtest reads `[sieve] spamtest_header` from the configuration.
#[test]
fn test_uses_the_configured_spam_header() {
    let dir = tempfile::tempdir().unwrap();
    let config = write(dir.path(), "p.toml", "[sieve]\nspamtest_header = \"X-Spam-Score\"\nspamtest_max = 10.0\n");
    let s = write(dir.path(), "s.sieve", "require \"spamtest\"; if spamtest :is \"8\" { discard; }");
    let m = write(dir.path(), "m.eml", MSG);
    let args = ["--config", config.to_str().unwrap(), "sieve", "test", s.to_str().unwrap(), m.to_str().unwrap()];
    assert_eq!(ok(&postfach(dir.path(), &args, None)), "discard\n");
    // Without the setting the message counts as not tested.
    assert_eq!(ok(&test_script("require \"spamtest\"; if spamtest :is \"0\" { discard; }", &[])), "discard\n");
}
