//! Real mail clients against a real postfach: mbsync (isync), offlineimap3,
//! getmail6 and Python's imaplib, each unmodified, as a user would run them.
//! `.ci/run` installs them from Debian's packages; a developer machine
//! without them skips these tests with a note (CI never does: with
//! `CI` set a missing client is a failure).

mod common;

use std::path::Path;
use std::process::Command;

use common::{append, message, Raw, PASSWORD, USER};

/// Whether `program` exists; panics under CI if it does not.
fn have(program: &str) -> bool {
    let found = Command::new("sh").arg("-c").arg(format!("command -v {program}")).output().map(|o| o.status.success());
    if found.unwrap_or(false) {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("{program} is not installed; .ci/run installs it");
    }
    eprintln!("skipping: {program} is not installed (apt-get install isync offlineimap3 getmail6)");
    false
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run client");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    text
}

/// Files in a Maildir folder's `cur` and `new`.
fn maildir_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for sub in ["cur", "new"] {
        if let Ok(rd) = std::fs::read_dir(dir.join(sub)) {
            out.extend(rd.filter_map(|e| e.ok()).map(|e| e.path()));
        }
    }
    out.sort();
    out
}

fn write_maildir_message(dir: &Path, name: &str, bytes: &[u8]) {
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    std::fs::write(dir.join("cur").join(format!("{name}:2,S")), bytes).unwrap();
}

async fn count(raw: &mut Raw, mailbox: &str) -> u32 {
    let r = raw.cmd(&format!("STATUS {mailbox} (MESSAGES)")).await;
    let line = r.iter().find(|l| l.starts_with("* STATUS")).unwrap_or_else(|| panic!("{r:?}"));
    line.rsplit("MESSAGES ").next().unwrap().trim_end_matches(')').parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mbsync_syncs_both_ways_over_imaps() {
    if !have("mbsync") {
        return;
    }
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    raw.cmd("CREATE Work").await;
    for i in 0..150 {
        append(&mut raw, "INBOX", &message(&format!("inbox-{i}"), &format!("body {i}"))).await;
    }
    for i in 0..60 {
        append(&mut raw, "Work", &message(&format!("work-{i}"), "work body")).await;
    }
    let local = tempfile::tempdir().unwrap();
    let mail = local.path().join("mail");
    for i in 0..40 {
        write_maildir_message(&mail.join("Pushed"), &format!("{i}.local"), &message(&format!("pushed-{i}"), "up"));
    }
    let rc = local.path().join("mbsyncrc");
    std::fs::write(
        &rc,
        format!(
            "IMAPAccount t\nHost 127.0.0.1\nPort {port}\nUser {USER}\nPass \"{PASSWORD}\"\nSSLType IMAPS\n\
             CertificateFile {cert}\n\nIMAPStore remote\nAccount t\n\n\
             MaildirStore local\nPath {mail}/\nInbox {mail}/INBOX\nSubFolders Verbatim\n\n\
             Channel c\nFar :remote:\nNear :local:\nPatterns *\nCreate Both\nExpunge Both\nSyncState *\n",
            port = server.tls_addr.port(),
            cert = server.dir.path().join("tls/cert.pem").display(),
            mail = mail.display(),
        ),
    )
    .unwrap();
    let rc1 = rc.clone();
    tokio::task::spawn_blocking(move || run(Command::new("mbsync").arg("-c").arg(&rc1).arg("-a"))).await.unwrap();

    assert_eq!(maildir_files(&mail.join("INBOX")).len(), 150);
    assert_eq!(maildir_files(&mail.join("Work")).len(), 60);
    assert_eq!(count(&mut raw, "Pushed").await, 40);
    // Byte-exact: a pulled message equals what was appended.
    let pulled = maildir_files(&mail.join("Work"));
    let body = std::fs::read(&pulled[0]).unwrap();
    assert!(String::from_utf8_lossy(&body).contains("Subject: work-"), "{}", String::from_utf8_lossy(&body));

    // Changes on both sides: flag locally, delete on the server.
    let first = &maildir_files(&mail.join("INBOX"))[0];
    let flagged = first.to_string_lossy().replace(":2,", ":2,F");
    std::fs::rename(first, &flagged).unwrap();
    raw.cmd("SELECT Work").await;
    raw.cmd("STORE 1:10 +FLAGS.SILENT (\\Deleted)").await;
    raw.cmd("EXPUNGE").await;
    let rc2 = rc.clone();
    tokio::task::spawn_blocking(move || run(Command::new("mbsync").arg("-c").arg(&rc2).arg("-a"))).await.unwrap();
    assert_eq!(maildir_files(&mail.join("Work")).len(), 50);
    raw.cmd("SELECT INBOX").await;
    let r = raw.cmd("SEARCH FLAGGED").await;
    let hits = r.iter().find(|l| l.starts_with("* SEARCH")).unwrap();
    assert_eq!(hits.split_whitespace().count(), 3, "one flagged message: {r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offlineimap_syncs_folders() {
    if !have("offlineimap") {
        return;
    }
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    raw.cmd("CREATE Lists/rust").await;
    for i in 0..120 {
        append(&mut raw, "INBOX", &message(&format!("oi-{i}"), "offlineimap")).await;
    }
    for i in 0..30 {
        append(&mut raw, "Lists/rust", &message(&format!("rust-{i}"), "list mail")).await;
    }
    let local = tempfile::tempdir().unwrap();
    let maildir = local.path().join("mail");
    std::fs::create_dir_all(&maildir).unwrap();
    let conf = local.path().join("offlineimaprc");
    std::fs::write(
        &conf,
        format!(
            "[general]\naccounts = t\nmetadata = {meta}\n\n[Account t]\nlocalrepository = L\nremoterepository = R\n\n\
             [Repository L]\ntype = Maildir\nlocalfolders = {mail}\n\n\
             [Repository R]\ntype = IMAP\nremotehost = 127.0.0.1\nremoteport = {port}\nremoteuser = {USER}\n\
             remotepass = {PASSWORD}\nssl = no\nstarttls = no\n",
            meta = local.path().join("meta").display(),
            mail = maildir.display(),
            port = server.addr.port(),
        ),
    )
    .unwrap();
    let c = conf.clone();
    tokio::task::spawn_blocking(move || {
        run(Command::new("offlineimap").arg("-c").arg(&c).arg("-o").arg("-u").arg("basic"))
    })
    .await
    .unwrap();
    assert_eq!(maildir_files(&maildir.join("INBOX")).len(), 120);
    // offlineimap maps the hierarchy separator to "." locally.
    assert_eq!(maildir_files(&maildir.join("Lists.rust")).len(), 30);

    // A message written locally goes up on the next run.
    write_maildir_message(&maildir.join("Lists.rust"), "1.local", &message("from-laptop", "local"));
    let c = conf.clone();
    tokio::task::spawn_blocking(move || {
        run(Command::new("offlineimap").arg("-c").arg(&c).arg("-o").arg("-u").arg("basic"))
    })
    .await
    .unwrap();
    assert_eq!(count(&mut raw, "Lists/rust").await, 31);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn getmail_retrieves_inbox() {
    if !have("getmail") {
        return;
    }
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    for i in 0..25 {
        append(&mut raw, "INBOX", &message(&format!("gm-{i}"), "getmail")).await;
    }
    let local = tempfile::tempdir().unwrap();
    let dest = local.path().join("Maildir");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(dest.join(sub)).unwrap();
    }
    // getmail refuses to deliver as root; CI runs as root, so deliver as nobody.
    let as_root = Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0")).unwrap_or(false);
    let user_line = if as_root {
        for p in [local.path().to_path_buf(), dest.clone(), dest.join("cur"), dest.join("new"), dest.join("tmp")] {
            run(Command::new("chmod").arg("0777").arg(&p));
        }
        "user = nobody\n"
    } else {
        ""
    };
    let rc = local.path().join("getmailrc");
    std::fs::write(
        &rc,
        format!(
            "[retriever]\ntype = SimpleIMAPRetriever\nserver = 127.0.0.1\nport = {port}\nusername = {USER}\n\
             password = {PASSWORD}\nmailboxes = (\"INBOX\",)\n\n[destination]\ntype = Maildir\npath = {dest}/\n{user_line}\n\
             [options]\nread_all = true\ndelete = false\nverbose = 0\n",
            port = server.addr.port(),
            dest = dest.display(),
        ),
    )
    .unwrap();
    let gd = local.path().to_path_buf();
    tokio::task::spawn_blocking(move || {
        run(Command::new("getmail")
            .arg(format!("--getmaildir={}", gd.display()))
            .arg(format!("--rcfile={}", rc.display())))
    })
    .await
    .unwrap();
    assert_eq!(maildir_files(&dest).len(), 25);
}

const IMAPLIB_TWO_DEVICES: &str = r#"
import imaplib, sys
port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
phone = imaplib.IMAP4("127.0.0.1", port)
laptop = imaplib.IMAP4("127.0.0.1", port)
for c in (phone, laptop):
    assert c.login(user, password)[0] == "OK"
typ, data = phone.select("INBOX")
assert typ == "OK" and data == [b"0"], data
msg = b"From: a@example.org\r\nSubject: hello\r\n\r\nhi\r\n"
typ, data = laptop.append("INBOX", r"(\Seen)", None, msg)
assert typ == "OK", data
typ, data = phone.noop()
# select() leaves its own EXISTS in the untagged responses; NOOP adds ours.
assert phone.response("EXISTS")[1][-1] == b"1", phone.untagged_responses
laptop.select("INBOX")
typ, data = laptop.store("1", "+FLAGS", r"(\Flagged)")
assert typ == "OK"
phone.noop()
typ, data = phone.response("FETCH")
assert data and any(b"\\Flagged" in d for d in data), data
typ, data = phone.fetch("1", "(BODY.PEEK[])")
assert typ == "OK" and data[0][1] == msg, data
laptop.store("1", "+FLAGS", r"(\Deleted)")
laptop.expunge()
phone.noop()
typ, data = phone.response("EXPUNGE")
assert data[-1] == b"1", data
typ, data = phone.search(None, "ALL")
assert data == [b""], data
for c in (phone, laptop):
    c.logout()
print("ok")
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_imaplib_devices_see_each_other() {
    if !have("python3") {
        return;
    }
    let server = common::start().await;
    let port = server.addr.port().to_string();
    let out = tokio::task::spawn_blocking(move || {
        run(Command::new("python3").arg("-c").arg(IMAPLIB_TWO_DEVICES).arg(port).arg(USER).arg(PASSWORD))
    })
    .await
    .unwrap();
    assert!(out.contains("ok"), "{out}");
}
