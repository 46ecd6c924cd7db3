//! `postfach deliver` (the real binary) against a data directory served by an
//! in-process server: exit codes, storage, and IDLE clients of the running
//! server seeing the message (cross-process change feed).

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{fetch_raw, Raw};

/// Runs `postfach --data DATA deliver ARGS` with `stdin`; returns the exit code and stderr.
fn deliver(data: &Path, args: &[&str], stdin: &[u8]) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_postfach"))
        .arg("--data")
        .arg(data)
        .arg("deliver")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run postfach deliver");
    // The process may exit before reading (usage or configuration errors).
    let _ = child.stdin.take().unwrap().write_all(stdin);
    let out = child.wait_with_output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

const MSG: &[u8] = b"From: bob@example.org\nSubject: piped\nMessage-ID: <piped@example.org>\n\nline one\n.dot line\n";

#[tokio::test]
async fn exit_codes() {
    let server = common::start().await;
    let data = server.dir.path();
    assert_eq!(deliver(data, &["--to", "nobody"], MSG).0, 67, "EX_NOUSER");
    assert_eq!(deliver(data, &["--to", "alice"], b"").0, 65, "EX_DATAERR: empty");
    assert_eq!(deliver(data, &["--to", "alice"], b"Subject: x\n\na\0b\n").0, 65, "EX_DATAERR: NUL");
    assert_eq!(deliver(data, &["--to", "alice", "--mailbox", "a//b"], MSG).0, 73, "EX_CANTCREAT");
    assert_eq!(deliver(&data.join("missing"), &["--to", "alice"], MSG).0, 75, "EX_TEMPFAIL");
    assert_eq!(deliver(data, &[], MSG).0, 2, "usage error from the argument parser");
    // A broken configuration file: EX_CONFIG.
    let bad = tempfile::tempdir().unwrap();
    std::fs::write(bad.path().join("postfach.toml"), "[delivery]\nnonsense = 1\n").unwrap();
    let (code, err) = deliver(bad.path(), &["--to", "alice"], MSG);
    assert_eq!(code, 78, "{err}");
    // Too big for the configured limit.
    let small = tempfile::tempdir().unwrap();
    store::Store::open(small.path()).unwrap().create_account("alice", "$argon2id$x").unwrap();
    std::fs::write(small.path().join("postfach.toml"), "[delivery]\nmax_message_size = 20\n").unwrap();
    assert_eq!(deliver(small.path(), &["--to", "alice"], MSG).0, 65);
    // Nothing was stored by any of these.
    let id = server.store.account_id("alice").unwrap().unwrap();
    let acc = server.store.account(id).unwrap();
    let inbox = acc.mailbox("INBOX").await.unwrap().unwrap();
    assert!(acc.summaries(inbox.id).await.unwrap().is_empty());
}

/// An IDLE client of the running server sees the delivered message within a
/// second; the stored copy has CRLF line endings and the trace headers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sees_delivered_message() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    raw.cmd("SELECT INBOX").await;
    raw.send(b"I IDLE\r\n").await;
    assert!(raw.line().await.starts_with("+ "));
    let data = server.dir.path().to_path_buf();
    let (code, err) =
        tokio::task::spawn_blocking(move || deliver(&data, &["--to", "alice+tag", "--from", "bob@example.org"], MSG))
            .await
            .unwrap();
    assert_eq!(code, 0, "{err}");
    let t = Instant::now();
    let line = raw.maybe_line(Duration::from_secs(1)).await;
    assert_eq!(line.as_deref(), Some("* 1 EXISTS"), "after {:?}", t.elapsed());
    raw.send(b"DONE\r\n").await;
    raw.until_tagged("I").await;
    let (size, body) = fetch_raw(&mut raw, 1).await;
    let mut want = b"Return-Path: <bob@example.org>\r\nDelivered-To: alice+tag\r\n".to_vec();
    want.extend_from_slice(&postfach::delivery::to_crlf(MSG));
    assert_eq!(String::from_utf8_lossy(&body), String::from_utf8_lossy(&want));
    assert_eq!(size, want.len() as u64);
}

/// `--mailbox` delivers there; a mailbox that does not exist means INBOX.
#[tokio::test]
async fn mailbox_choice() {
    let server = common::start().await;
    let data = server.dir.path();
    assert_eq!(deliver(data, &["--to", "alice", "--mailbox", "Archive"], MSG).0, 0);
    assert_eq!(deliver(data, &["--to", "alice", "--mailbox", "No/Such"], MSG).0, 0);
    let id = server.store.account_id("alice").unwrap().unwrap();
    let acc = server.store.account(id).unwrap();
    for (name, n) in [("Archive", 1), ("INBOX", 1)] {
        let mb = acc.mailbox(name).await.unwrap().unwrap();
        assert_eq!(acc.summaries(mb.id).await.unwrap().len(), n, "{name}");
    }
    // Same bytes, same blob: two rows, one file.
    assert_eq!(common::count_blobs(data), 1);
}
