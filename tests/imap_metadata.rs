//! METADATA (RFC 5464), LIST-METADATA (RFC 9590) and the NOTIFY metadata
//! events (RFC 5465 §5.6–5.7), as raw transcripts against a real server.

mod common;

use std::time::Duration;

use common::Raw;

fn ok(r: &[String]) -> bool {
    r.last().is_some_and(|l| l.starts_with("T OK"))
}

/// Lines that arrive within `wait` without the client sending anything.
async fn unsolicited(raw: &mut Raw, wait: Duration) -> Vec<String> {
    let mut out = Vec::new();
    while let Some(l) = raw.maybe_line(wait).await {
        out.push(l);
    }
    out
}

#[tokio::test]
async fn capabilities() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    let caps = raw.cmd("CAPABILITY").await;
    // METADATA implies METADATA-SERVER (RFC 5464 §1); LIST-METADATA is RFC 9590.
    for cap in [" METADATA", " LIST-METADATA"] {
        assert!(caps[0].contains(&format!("{cap} ")) || caps[0].ends_with(cap), "{cap}: {caps:?}");
    }
}

/// The examples of RFC 5464 §4.2–4.4, in order.
#[tokio::test]
async fn rfc5464_examples() {
    let server = common::start_with(|c| c.metadata.admin = Some("mailto:postmaster@example.org".into())).await;
    server.store.set_server_metadata("/shared/comment", Some(b"Shared comment")).unwrap();
    let mut raw = Raw::login(server.addr).await;

    assert_eq!(
        raw.cmd("GETMETADATA \"\" /shared/comment").await,
        ["* METADATA \"\" (/shared/comment \"Shared comment\")", "T OK GETMETADATA completed"]
    );
    // §4.3: a multi-line value as a literal, then a few values at once.
    raw.send(b"T SETMETADATA INBOX (/private/comment {33}\r\n").await;
    assert!(raw.line().await.starts_with("+ "));
    raw.send(b"My new comment across\r\ntwo lines.)\r\n").await;
    assert!(ok(&raw.until_tagged("T").await));
    assert_eq!(
        raw.cmd("GETMETADATA \"INBOX\" /private/comment").await,
        [
            "* METADATA \"INBOX\" (/private/comment {33}\r\nMy new comment across\r\ntwo lines.)",
            "T OK GETMETADATA completed"
        ]
    );
    let r = raw.cmd("SETMETADATA INBOX (/private/comment \"My own comment\" /shared/comment \"Shared comment\")").await;
    assert!(ok(&r), "{r:?}");
    assert_eq!(
        raw.cmd("GETMETADATA \"INBOX\" (/shared/comment /private/comment)").await,
        [
            "* METADATA \"INBOX\" (/shared/comment \"Shared comment\" /private/comment \"My own comment\")",
            "T OK GETMETADATA completed"
        ]
    );
    // §4.2.1 MAXSIZE: the long value is left out and its size reported.
    let long = "x".repeat(2199);
    assert!(ok(&raw.cmd(&format!("SETMETADATA INBOX (/shared/comment \"{long}\")")).await));
    assert_eq!(
        raw.cmd("GETMETADATA (MAXSIZE 1024) \"INBOX\" (/shared/comment /private/comment)").await,
        [
            "* METADATA \"INBOX\" (/private/comment \"My own comment\")",
            "T OK [METADATA LONGENTRIES 2199] GETMETADATA completed"
        ]
    );
    // The example's own spelling, options after the mailbox.
    assert_eq!(
        raw.cmd("GETMETADATA \"INBOX\" (MAXSIZE 1024) (/shared/comment /private/comment)").await.last().unwrap(),
        "T OK [METADATA LONGENTRIES 2199] GETMETADATA completed"
    );
    // §4.2.2 DEPTH.
    let r = raw
        .cmd("SETMETADATA INBOX (/private/filters/values/small \"SMALLER 5000\" /private/filters/values/boss \"FROM \\\"boss@example.com\\\"\" /private/filters/values/boss/x \"deeper\")")
        .await;
    assert!(ok(&r), "{r:?}");
    assert_eq!(
        raw.cmd("GETMETADATA (DEPTH 1) \"INBOX\" (/private/filters/values)").await,
        [
            "* METADATA \"INBOX\" (/private/filters/values/boss \"FROM \\\"boss@example.com\\\"\" /private/filters/values/small \"SMALLER 5000\")",
            "T OK GETMETADATA completed"
        ]
    );
    assert_eq!(
        raw.cmd("GETMETADATA (DEPTH 0) \"INBOX\" /private/filters/values").await[0],
        "* METADATA \"INBOX\" (/private/filters/values NIL)"
    );
    let r = raw.cmd("GETMETADATA (DEPTH infinity) \"INBOX\" /private/filters").await;
    assert_eq!(r[0].matches("/private/filters/values/").count(), 3, "{r:?}");
    // §4.3: NIL removes.
    assert!(ok(&raw.cmd("SETMETADATA INBOX (/private/comment NIL)").await));
    assert_eq!(raw.cmd("GETMETADATA INBOX /private/comment").await[0], "* METADATA \"INBOX\" (/private/comment NIL)");
    // §3.2.1.1: /shared/admin from the config, read-only.
    assert_eq!(
        raw.cmd("GETMETADATA \"\" /shared/admin").await[0],
        "* METADATA \"\" (/shared/admin \"mailto:postmaster@example.org\")"
    );
    let r = raw.cmd("SETMETADATA \"\" (/shared/admin \"mailto:me@example.org\")").await;
    assert!(r[0].starts_with("T NO [NOPERM]"), "{r:?}");
    let r = raw.cmd("GETMETADATA (DEPTH 1) \"\" /shared").await;
    assert_eq!(
        r[0],
        "* METADATA \"\" (/shared/comment \"Shared comment\" /shared/admin \"mailto:postmaster@example.org\")"
    );
}

/// Delta Chat's server entries: a private device token per account, and
/// server-wide /shared entries that only the administrator sets.
#[tokio::test]
async fn server_entries_private_per_user_shared_global() {
    let server = common::start().await;
    server.store.create_account("bob", &postfach::auth::hash_password("pw")).unwrap();
    server.store.set_server_metadata("/shared/vendor/deltachat/irohrelay", Some(b"https://relay.example/")).unwrap();
    let mut alice = Raw::login(server.addr).await;
    let mut bob = Raw::connect(server.addr).await;
    assert!(ok(&bob.cmd("LOGIN bob pw").await));

    assert!(ok(&alice.cmd("SETMETADATA \"\" (/private/devicetoken \"alice-token\")").await));
    assert_eq!(
        alice.cmd("GETMETADATA \"\" (/private/devicetoken /shared/vendor/deltachat/irohrelay)").await[0],
        "* METADATA \"\" (/private/devicetoken \"alice-token\" /shared/vendor/deltachat/irohrelay \"https://relay.example/\")"
    );
    assert_eq!(
        bob.cmd("GETMETADATA \"\" (/private/devicetoken /shared/vendor/deltachat/irohrelay)").await[0],
        "* METADATA \"\" (/private/devicetoken NIL /shared/vendor/deltachat/irohrelay \"https://relay.example/\")",
        "private entries are per user, shared server entries global"
    );
    // RFC 5464 §3.3: restricted server annotations get NO, and nothing of the command is set (§4.3).
    let r = bob.cmd("SETMETADATA \"\" (/private/devicetoken \"bob\" /shared/comment \"hi all\")").await;
    assert!(r[0].starts_with("T NO [NOPERM]"), "{r:?}");
    assert_eq!(bob.cmd("GETMETADATA \"\" /private/devicetoken").await[0], "* METADATA \"\" (/private/devicetoken NIL)");
}

#[tokio::test]
async fn limits() {
    let server = common::start_with(|c| {
        c.metadata.max_entry_size = 1024;
        c.metadata.max_entries = 10;
    })
    .await;
    let mut raw = Raw::login(server.addr).await;
    // RFC 5464 §4.1: at least 1024 octets and 10 entries must be accepted.
    let kib = "k".repeat(1024);
    assert!(ok(&raw.cmd(&format!("SETMETADATA INBOX (/private/big \"{kib}\")")).await));
    let r = raw.cmd(&format!("SETMETADATA INBOX (/private/comment \"x\" /private/big \"{kib}k\")")).await;
    assert_eq!(r, ["T NO [METADATA MAXSIZE 1024] the value of /private/big is larger than 1024 octets"]);
    assert_eq!(
        raw.cmd("GETMETADATA INBOX /private/comment").await[0],
        "* METADATA \"INBOX\" (/private/comment NIL)",
        "§4.3: nothing of a failed SETMETADATA is set"
    );
    // A literal too large for memory is refused the same way.
    let big = vec![b'z'; 300 * 1024];
    raw.send(format!("T SETMETADATA INBOX (/private/huge {{{}+}}\r\n", big.len()).as_bytes()).await;
    raw.send(&big).await;
    raw.send(b")\r\n").await;
    assert!(raw.until_tagged("T").await[0].starts_with("T NO [METADATA MAXSIZE 1024]"));

    let nine: Vec<String> = (1..=9).map(|i| format!("/private/e{i} \"{i}\"")).collect();
    assert!(ok(&raw.cmd(&format!("SETMETADATA INBOX ({})", nine.join(" "))).await));
    let r = raw.cmd("SETMETADATA INBOX (/private/e1 \"changed\" /private/e10 \"10\")").await;
    assert!(r[0].starts_with("T NO [METADATA TOOMANY]"), "{r:?}");
    assert_eq!(raw.cmd("GETMETADATA INBOX /private/e1").await[0], "* METADATA \"INBOX\" (/private/e1 \"1\")");
    // Other mailboxes have their own count.
    assert!(ok(&raw.cmd("SETMETADATA Sent (/private/e10 \"10\")").await));
    // Removing stays possible at the limit.
    assert!(ok(&raw.cmd("SETMETADATA INBOX (/private/e1 NIL /private/e10 \"10\")").await));
}

#[tokio::test]
async fn errors() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    // RFC 5464 §3.2: invalid entry names are BAD.
    for entry in [
        "/foo/bar",
        "comment",
        "/shared//comment",
        "/shared/comment/",
        "/shared/c*",
        "/shared/c%",
        "\"/shared/\u{e4}\"",
    ] {
        let r = raw.cmd(&format!("GETMETADATA INBOX {entry}")).await;
        assert!(r[0].starts_with("T BAD"), "{entry}: {r:?}");
        let r = raw.cmd(&format!("SETMETADATA INBOX ({entry} \"x\")")).await;
        assert!(r[0].starts_with("T BAD"), "{entry}: {r:?}");
    }
    // §3.3: the mailbox must exist.
    let r = raw.cmd("GETMETADATA nosuch /private/comment").await;
    assert!(r[0].starts_with("T NO [NONEXISTENT]"), "{r:?}");
    let r = raw.cmd("SETMETADATA nosuch (/private/comment \"x\")").await;
    assert!(r[0].starts_with("T NO [NONEXISTENT]"), "{r:?}");
    // Grammar errors.
    for bad in ["GETMETADATA", "GETMETADATA INBOX", "SETMETADATA INBOX ()", "GETMETADATA (DEPTH 2) INBOX /private/x"] {
        assert!(raw.cmd(bad).await[0].starts_with("T BAD"), "{bad}");
    }
    // Not before authentication.
    let mut anon = Raw::connect(server.addr).await;
    assert!(anon.cmd("GETMETADATA \"\" /shared/comment").await[0].starts_with("T BAD"));
    // Allowed in the selected state.
    raw.cmd("SELECT INBOX").await;
    assert!(ok(&raw.cmd("SETMETADATA INBOX (/shared/comment \"sel\")").await));
    assert!(ok(&raw.cmd("GETMETADATA INBOX /shared/comment").await));
}

/// RFC 5464 §4.1: entries follow RENAME (and are copied from a renamed
/// INBOX), go with DELETE, and survive a restart.
#[tokio::test]
async fn rename_delete_and_restart() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    raw.cmd("CREATE work/sub").await;
    assert!(ok(&raw.cmd("SETMETADATA work (/shared/comment \"w\")").await));
    assert!(ok(&raw.cmd("SETMETADATA work/sub (/private/comment \"s\")").await));
    assert!(ok(&raw.cmd("RENAME work job").await));
    assert_eq!(raw.cmd("GETMETADATA job /shared/comment").await[0], "* METADATA \"job\" (/shared/comment \"w\")");
    assert_eq!(
        raw.cmd("GETMETADATA job/sub /private/comment").await[0],
        "* METADATA \"job/sub\" (/private/comment \"s\")"
    );
    assert!(ok(&raw.cmd("DELETE job/sub").await));
    raw.cmd("CREATE job/sub").await;
    assert_eq!(
        raw.cmd("GETMETADATA job/sub /private/comment").await[0],
        "* METADATA \"job/sub\" (/private/comment NIL)",
        "a new mailbox of the same name does not inherit the old entries"
    );
    assert!(ok(&raw.cmd("SETMETADATA INBOX (/private/comment \"in\")").await));
    assert!(ok(&raw.cmd("RENAME INBOX old-inbox").await));
    for mb in ["INBOX", "old-inbox"] {
        assert_eq!(
            raw.cmd(&format!("GETMETADATA {mb} /private/comment")).await[0],
            format!("* METADATA \"{mb}\" (/private/comment \"in\")")
        );
    }
    assert!(ok(&raw.cmd("SETMETADATA \"\" (/private/devicetoken \"t\")").await));
    drop(raw);

    // A new server on the same data directory.
    let (_dir, _shutdown, addr) = restart(server).await;
    let mut raw = Raw::login(addr).await;
    assert_eq!(raw.cmd("GETMETADATA job /shared/comment").await[0], "* METADATA \"job\" (/shared/comment \"w\")");
    assert_eq!(
        raw.cmd("GETMETADATA \"\" /private/devicetoken").await[0],
        "* METADATA \"\" (/private/devicetoken \"t\")"
    );
}

/// Stops `server` and starts a new one on its data directory (as in imap_objectid.rs).
async fn restart(
    mut server: common::TestServer,
) -> (tempfile::TempDir, tokio::sync::oneshot::Sender<()>, std::net::SocketAddr) {
    let dir = std::mem::replace(&mut server.dir, tempfile::tempdir().unwrap());
    drop(server);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let config = common::imap_only_config();
    let store = store::Store::open(dir.path()).unwrap();
    let (tls, _) = postfach::tls::load_or_generate(&config.tls, dir.path()).unwrap();
    let server = postfach::imap::Server::bind(config, store, tls).await.unwrap();
    let addr = server.imap_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.run(async move {
        let _ = rx.await;
    }));
    (dir, tx, addr)
}

/// RFC 9590: LIST RETURN (METADATA (…)) follows each mailbox with its entries.
#[tokio::test]
async fn list_return_metadata() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    assert!(ok(&raw.cmd("SETMETADATA INBOX (/shared/vendor/x/color \"#ff0000\")").await));
    assert!(ok(&raw.cmd("SETMETADATA Sent (/private/comment \"mine\")").await));
    let r = raw.cmd("LIST \"\" % RETURN (METADATA (/shared/vendor/x/color /private/comment))").await;
    let inbox = r.iter().position(|l| l.starts_with("* LIST") && l.ends_with(" INBOX")).expect("INBOX listed");
    assert_eq!(r[inbox + 1], "* METADATA \"INBOX\" (/shared/vendor/x/color \"#ff0000\" /private/comment NIL)");
    let sent = r.iter().position(|l| l.starts_with("* LIST") && l.ends_with(" \"Sent\"")).expect("Sent listed");
    assert_eq!(r[sent + 1], "* METADATA \"Sent\" (/shared/vendor/x/color NIL /private/comment \"mine\")");
    assert_eq!(
        r.iter().filter(|l| l.starts_with("* METADATA")).count(),
        r.iter().filter(|l| l.starts_with("* LIST")).count()
    );
    assert!(ok(&r));
    // With other return options and MAXSIZE.
    let r = raw
        .cmd("LIST \"\" INBOX RETURN (CHILDREN STATUS (MESSAGES) METADATA (MAXSIZE 3 /shared/vendor/x/color))")
        .await;
    assert_eq!(r[1], "* STATUS INBOX (MESSAGES 0)");
    assert_eq!(r.last().unwrap(), "T OK [METADATA LONGENTRIES 7] LIST completed");
    assert!(!r.iter().any(|l| l.starts_with("* METADATA")), "{r:?}");
}

/// RFC 5465 §5.6–5.7: another session's changes arrive as unsolicited
/// METADATA responses with entry names only; the writer hears nothing back.
#[tokio::test]
async fn notify_metadata_changes() {
    let server = common::start().await;
    let mut phone = Raw::login(server.addr).await;
    let mut laptop = Raw::login(server.addr).await;
    let r = phone.cmd("NOTIFY SET (personal (MailboxMetadataChange ServerMetadataChange))").await;
    assert!(ok(&r), "{r:?}");
    let r = laptop.cmd("NOTIFY SET (personal (MailboxMetadataChange ServerMetadataChange))").await;
    assert!(ok(&r), "{r:?}");

    assert!(ok(&laptop.cmd("SETMETADATA INBOX (/shared/comment \"hi\" /private/comment \"me\")").await));
    let got = unsolicited(&mut phone, Duration::from_millis(1000)).await;
    assert_eq!(got, ["* METADATA \"INBOX\" /shared/comment /private/comment"]);
    assert!(ok(&laptop.cmd("SETMETADATA \"\" (/private/devicetoken \"t\")").await));
    assert_eq!(unsolicited(&mut phone, Duration::from_millis(1000)).await, ["* METADATA \"\" /private/devicetoken"]);
    // §5.6: a removed entry is always included.
    assert!(ok(&laptop.cmd("SETMETADATA INBOX (/shared/comment NIL)").await));
    assert_eq!(unsolicited(&mut phone, Duration::from_millis(1000)).await, ["* METADATA \"INBOX\" /shared/comment"]);
    // The writer is not told its own changes.
    assert!(unsolicited(&mut laptop, Duration::from_millis(300)).await.is_empty());
    // Server-wide entries changed by the administrator reach every session (§5.7).
    let set = postfach::admin::MetadataCommand::Set { entry: "/shared/comment".into(), value: "hello".into() };
    postfach::admin::metadata::run(&server.store, &set, &mut Vec::new()).unwrap();
    assert_eq!(unsolicited(&mut phone, Duration::from_millis(1000)).await, ["* METADATA \"\" /shared/comment"]);
    assert_eq!(unsolicited(&mut laptop, Duration::from_millis(1000)).await, ["* METADATA \"\" /shared/comment"]);

    // Only mailboxes the filter names.
    let r = phone.cmd("NOTIFY SET (mailboxes Sent (MailboxMetadataChange))").await;
    assert!(ok(&r), "{r:?}");
    assert!(ok(&laptop.cmd("SETMETADATA INBOX (/shared/comment \"not watched\")").await));
    assert!(ok(&laptop.cmd("SETMETADATA \"\" (/private/devicetoken \"not watched\")").await));
    assert!(ok(&laptop.cmd("SETMETADATA Sent (/shared/comment \"watched\")").await));
    assert_eq!(unsolicited(&mut phone, Duration::from_millis(1000)).await, ["* METADATA \"Sent\" /shared/comment"]);
    // During IDLE as well.
    phone.cmd("SELECT INBOX").await;
    phone.send(b"I IDLE\r\n").await;
    assert!(phone.line().await.starts_with("+ "));
    assert!(ok(&laptop.cmd("SETMETADATA Sent (/private/x \"1\")").await));
    assert_eq!(phone.line().await, "* METADATA \"Sent\" /private/x");
    phone.send(b"DONE\r\n").await;
    assert!(phone.until_tagged("I").await.last().unwrap().starts_with("I OK"));
    // ANNOTATE's event stays unsupported (RFC 5465 §3.1).
    let r = phone.cmd("NOTIFY SET (personal (AnnotationChange))").await;
    assert!(r[0].starts_with("T NO [BADEVENT ("), "{r:?}");
    assert!(r[0].contains("MailboxMetadataChange ServerMetadataChange)"), "{r:?}");
    // MailboxMetadataChange is a mailbox event: not for SELECTED (§6.1).
    assert!(phone.cmd("NOTIFY SET (selected (MailboxMetadataChange))").await[0].starts_with("T BAD"));
}

/// An independent client: async-imap's GETMETADATA parser reads our
/// responses (its parser knows only the RFC's registered names and vendor
/// entries, so those are what this test uses).
#[tokio::test]
async fn async_imap_reads_metadata() {
    let server = common::start_with(|c| c.metadata.admin = Some("mailto:postmaster@example.org".into())).await;
    server.store.set_server_metadata("/shared/vendor/deltachat/irohrelay", Some(b"https://relay.example/")).unwrap();
    let mut s = common::client(server.addr).await;
    let m = s.get_metadata("", "", "(/shared/admin /shared/vendor/deltachat/irohrelay /shared/comment)").await.unwrap();
    let got: Vec<(String, Option<String>)> = m.into_iter().map(|m| (m.entry, m.value)).collect();
    assert_eq!(
        got,
        [
            ("/shared/admin".to_string(), Some("mailto:postmaster@example.org".to_string())),
            ("/shared/vendor/deltachat/irohrelay".to_string(), Some("https://relay.example/".to_string())),
            ("/shared/comment".to_string(), None),
        ]
    );
    s.run_command_and_check_ok("SETMETADATA INBOX (/private/comment \"c\")").await.unwrap();
    // Options after the mailbox, as RFC 5464's examples have them (async-imap's
    // own `options` argument drops the space before the entries).
    let m = s.get_metadata("INBOX", "", "(MAXSIZE 100) /private/comment").await.unwrap();
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].value.as_deref(), Some("c"));
}

/// RFC 5464 §5 `value = nstring / literal8`: binary values round-trip.
#[tokio::test]
async fn binary_values_with_literal8() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    raw.send(b"T SETMETADATA INBOX (/private/vendor/x/bin ~{4+}\r\na\0\xffb)\r\n").await;
    let r = raw.until_tagged("T").await;
    assert!(ok(&r), "{r:?}");
    raw.send(b"T GETMETADATA INBOX /private/vendor/x/bin\r\n").await;
    let mut got = Vec::new();
    let mut b = [0u8; 1];
    use tokio::io::AsyncReadExt;
    while !got.ends_with(b"T OK GETMETADATA completed\r\n") {
        tokio::time::timeout(common::TIMEOUT, raw.io.read_exact(&mut b)).await.unwrap().unwrap();
        got.push(b[0]);
    }
    assert!(got.starts_with(b"* METADATA \"INBOX\" (/private/vendor/x/bin ~{4}\r\na\0\xffb)\r\n"), "{got:?}");
}
