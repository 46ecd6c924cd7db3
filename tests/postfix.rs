//! `docs/postfix.md`, verified: a private Postfix instance (own config,
//! queue and data directories in a temp dir, SMTP on a free loopback port)
//! relays a message for `example.test` to postfach over LMTP, and the message
//! appears in the IMAP INBOX.
//!
//! Runs only where Postfix is installed (`.ci/run` installs it); with `CI`
//! set, a missing Postfix fails the test instead of skipping it. Needs root
//! (Postfix's master starts its daemons as `mail_owner`).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{fetch_raw, Lmtp, Raw};

fn find_postfix() -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    let found =
        path.split(':').chain(["/usr/sbin", "/sbin"]).map(|d| Path::new(d).join("postfix")).find(|p| p.is_file());
    found
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0\n")).unwrap_or(false)
}

/// Stops the private Postfix instance, even if the test fails.
struct Instance {
    postfix: PathBuf,
    conf: PathBuf,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = Command::new(&self.postfix).arg("-c").arg(&self.conf).arg("stop").output();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The `main.cf` of docs/postfix.md, plus what a private instance needs.
fn main_cf(root: &Path, lmtp: std::net::SocketAddr) -> String {
    let r = root.display();
    format!(
        "compatibility_level = 3.6\n\
         queue_directory = {r}/queue\n\
         data_directory = {r}/data\n\
         maillog_file_prefixes = {r}\n\
         maillog_file = {r}/maillog\n\
         mail_owner = postfix\n\
         setgid_group = postdrop\n\
         myhostname = mx.postfach.test\n\
         mydomain = postfach.test\n\
         inet_interfaces = 127.0.0.1\n\
         inet_protocols = ipv4\n\
         mydestination =\n\
         local_recipient_maps =\n\
         alias_maps =\n\
         alias_database =\n\
         relayhost =\n\
         mynetworks = 127.0.0.0/8\n\
         smtputf8_enable = no\n\
         virtual_mailbox_domains = example.test\n\
         virtual_transport = lmtp:inet:{lmtp}\n"
    )
}

/// Debian's `master.cf` services, without chroot (the queue is a temp dir).
fn master_cf(smtp_port: u16) -> String {
    let mut s = format!("127.0.0.1:{smtp_port} inet n - n - - smtpd\n");
    for line in [
        "pickup unix n - n 60 1 pickup",
        "cleanup unix n - n - 0 cleanup",
        "qmgr unix n - n 300 1 qmgr",
        "rewrite unix - - n - - trivial-rewrite",
        "bounce unix - - n - 0 bounce",
        "defer unix - - n - 0 bounce",
        "trace unix - - n - 0 bounce",
        "verify unix - - n - 1 verify",
        "flush unix n - n 1000? 0 flush",
        "proxymap unix - - n - - proxymap",
        "smtp unix - - n - - smtp",
        "relay unix - - n - - smtp",
        "showq unix n - n - - showq",
        "error unix - - n - - error",
        "retry unix - - n - - error",
        "discard unix - - n - - discard",
        "lmtp unix - - n - - lmtp",
        "anvil unix - - n - 1 anvil",
        "scache unix - - n - 1 scache",
        "postlog unix-dgram n - n - 1 postlogd",
    ] {
        s.push_str(line);
        s.push('\n');
    }
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postfix_delivers_over_lmtp() {
    let Some(postfix) = find_postfix().filter(|_| is_root()) else {
        if std::env::var_os("CI").is_some() {
            panic!("postfix is not installed (or we are not root); .ci/run installs it");
        }
        eprintln!("skipping: postfix not installed or not root (apt-get install postfix)");
        return;
    };
    let server = common::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    // Postfix's daemons run as `postfix` and must reach the queue.
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let conf = root.join("conf");
    for d in ["conf", "queue", "data"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    assert!(Command::new("chown").arg("postfix").arg(root.join("data")).status().unwrap().success());
    let smtp_port = free_port();
    std::fs::write(conf.join("main.cf"), main_cf(root, server.lmtp_addr)).unwrap();
    std::fs::write(conf.join("master.cf"), master_cf(smtp_port)).unwrap();
    let maillog = || std::fs::read_to_string(root.join("maillog")).unwrap_or_default();

    let out = Command::new(&postfix).arg("-c").arg(&conf).arg("start").output().unwrap();
    let _instance = Instance { postfix: postfix.clone(), conf: conf.clone() };
    assert!(out.status.success(), "postfix start failed: {out:?}\n{}", maillog());

    // Submit over SMTP on loopback (waiting for smtpd to come up).
    let smtp: std::net::SocketAddr = ([127, 0, 0, 1], smtp_port).into();
    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(smtp).await.is_err() {
        assert!(Instant::now() < deadline, "postfix smtpd did not come up\n{}", maillog());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut c = Lmtp::connect(smtp).await;
    assert!(c.cmd("EHLO client.test").await.last().unwrap().starts_with("250 "));
    assert!(c.cmd("MAIL FROM:<sender@remote.test>").await[0].starts_with("250 "));
    let r = c.cmd("RCPT TO:<alice@example.test>").await;
    assert!(r[0].starts_with("250 "), "{r:?}");
    let msg = b"From: sender@remote.test\r\nTo: alice@example.test\r\nSubject: via postfix\r\n\
                Message-ID: <via-postfix@remote.test>\r\n\r\nHello through Postfix.\r\n.dot line\r\n";
    let r = c.data(msg, 1).await;
    assert!(r[0].starts_with("250 "), "{r:?}");
    let _ = c.cmd("QUIT").await;

    // Wait (bounded) until it is in alice's INBOX.
    let mut raw = Raw::login(server.addr).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let sel = raw.cmd("SELECT INBOX").await;
        if sel.iter().any(|l| l == "* 1 EXISTS") {
            break;
        }
        assert!(Instant::now() < deadline, "message did not arrive; Postfix log:\n{}", maillog());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (size, body) = fetch_raw(&mut raw, 1).await;
    let text = String::from_utf8_lossy(&body);
    assert!(text.starts_with("Return-Path: <sender@remote.test>\r\nDelivered-To: alice@example.test\r\n"), "{text}");
    assert!(text.contains("Message-ID: <via-postfix@remote.test>\r\n"), "{text}");
    assert!(text.ends_with("Hello through Postfix.\r\n.dot line\r\n"), "{text}");
    assert_eq!(size, body.len() as u64);
    assert!(maillog().contains("status=sent"), "{}", maillog());
}
