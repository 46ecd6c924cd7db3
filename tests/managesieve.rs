//! ManageSieve (RFC 5804) against a real server: a transcript of every
//! command including the error answers, STARTTLS, SASL continuations, the
//! real `sieve-connect` client, and hostile input.

mod common;

use common::{plain_b64, Sieve, PASSWORD, USER};

fn b64(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[tokio::test]
async fn transcript_of_every_command() {
    let server = common::start_with(|c| {
        c.sieve.max_scripts = 2;
        c.sieve.max_script_size = 100;
    })
    .await;
    let (mut s, greeting) = Sieve::connect(server.managesieve_addr).await;
    assert!(greeting[0].starts_with("\"IMPLEMENTATION\" \"postfach"), "{greeting:?}");
    assert_eq!(greeting[1], format!("\"SIEVE\" \"{}\"", sieve::EXTENSIONS.join(" ")));
    assert!(greeting.contains(&"\"SASL\" \"PLAIN LOGIN\"".to_string()), "{greeting:?}");
    assert!(greeting.contains(&"\"STARTTLS\"".to_string()));
    assert!(greeting.contains(&"\"VERSION\" \"1.0\"".to_string()));
    assert_eq!(
        s.cmd("CAPABILITY").await,
        greeting[..greeting.len() - 1].iter().cloned().chain(["OK".into()]).collect::<Vec<_>>()
    );

    // Not authenticated yet.
    assert_eq!(s.cmd("LISTSCRIPTS").await, ["NO \"authenticate first\""]);
    assert_eq!(s.cmd("NOOP \"t1\"").await, ["OK (TAG \"t1\") \"Done\""]);
    assert!(s.cmd("FROBNICATE").await[0].starts_with("NO "));
    assert_eq!(s.cmd("AUTHENTICATE \"CRAM-MD5\"").await, ["NO \"unsupported SASL mechanism\""]);
    let wrong = plain_b64(USER, "wrong");
    assert_eq!(s.cmd(&format!("AUTHENTICATE \"PLAIN\" \"{wrong}\"")).await, ["NO \"authentication failed\""]);
    // PLAIN with a continuation: the server sends an empty challenge.
    s.send(b"AUTHENTICATE \"PLAIN\"\r\n").await;
    assert_eq!(s.line().await, "\"\"");
    let resp = plain_b64(USER, PASSWORD);
    assert_eq!(s.cmd(&format!("{{{}+}}\r\n{resp}", resp.len())).await, ["OK \"Logged in\""]);
    assert_eq!(s.cmd("AUTHENTICATE \"PLAIN\"").await, ["NO \"already authenticated\""]);

    // Scripts.
    assert_eq!(s.cmd("LISTSCRIPTS").await, ["OK"]);
    assert_eq!(s.put("vacation", "require \"vacation\";\r\nvacation \"away\";").await, ["OK"]);
    // A synchronizing literal works the same (no continuation).
    let script = "keep;";
    assert_eq!(s.cmd(&format!("PUTSCRIPT \"second\" {{{}}}\r\n{script}", script.len())).await, ["OK"]);
    let bad = s.put("second", "require \"fileinto\";\r\nif hedaer :is \"x\" \"y\" { keep; }").await;
    assert!(bad[0].starts_with("NO \"line 2"), "{bad:?}");
    assert!(bad[0].contains("did you mean `header`"), "{bad:?}");
    assert_eq!(s.put("third", "keep;").await, ["NO (QUOTA/MAXSCRIPTS) \"too many scripts\""]);
    assert_eq!(s.put("second", &"#".repeat(101)).await, ["NO (QUOTA/MAXSIZE) \"script is too large\""]);
    assert_eq!(s.cmd("HAVESPACE \"second\" 100").await, ["OK"]);
    assert_eq!(s.cmd("HAVESPACE \"second\" 101").await, ["NO (QUOTA/MAXSIZE) \"script is too large\""]);
    assert_eq!(s.cmd("HAVESPACE \"new\" 10").await, ["NO (QUOTA/MAXSCRIPTS) \"too many scripts\""]);
    assert!(s.cmd("HAVESPACE \"new\" lots").await[0].starts_with("NO \"syntax"));
    assert_eq!(s.cmd("CHECKSCRIPT \"stop;\"").await, ["OK"]);
    assert!(s.cmd("CHECKSCRIPT \"frobnicate;\"").await[0].starts_with("NO \"line 1"));
    assert_eq!(s.cmd("SETACTIVE \"vacation\"").await, ["OK"]);
    assert_eq!(s.cmd("SETACTIVE \"ghost\"").await, ["NO (NONEXISTENT) \"no such script\""]);
    assert_eq!(s.cmd("LISTSCRIPTS").await, ["\"second\"", "\"vacation\" ACTIVE", "OK"]);
    assert_eq!(s.cmd("GETSCRIPT \"vacation\"").await, ["{37}\r\nrequire \"vacation\";\r\nvacation \"away\";", "OK"]);
    assert_eq!(s.cmd("GETSCRIPT \"second\"").await, ["\"keep;\"", "OK"]);
    assert_eq!(s.cmd("GETSCRIPT \"ghost\"").await, ["NO (NONEXISTENT) \"no such script\""]);
    assert_eq!(s.cmd("DELETESCRIPT \"vacation\"").await, ["NO (ACTIVE) \"the active script cannot be deleted\""]);
    assert_eq!(s.cmd("DELETESCRIPT \"ghost\"").await, ["NO (NONEXISTENT) \"no such script\""]);
    assert_eq!(
        s.cmd("RENAMESCRIPT \"second\" \"vacation\"").await,
        ["NO (ALREADYEXISTS) \"a script with that name exists\""]
    );
    assert_eq!(s.cmd("RENAMESCRIPT \"ghost\" \"x\"").await, ["NO (NONEXISTENT) \"no such script\""]);
    assert_eq!(s.cmd("RENAMESCRIPT \"vacation\" \"away\"").await, ["OK"]);
    assert_eq!(s.cmd("LISTSCRIPTS").await, ["\"away\" ACTIVE", "\"second\"", "OK"]);
    assert_eq!(s.cmd("SETACTIVE \"\"").await, ["OK"]);
    assert_eq!(s.cmd("LISTSCRIPTS").await, ["\"away\"", "\"second\"", "OK"]);
    assert_eq!(s.cmd("DELETESCRIPT \"away\"").await, ["OK"]);
    assert!(s.cmd("PUTSCRIPT \"x\"").await[0].starts_with("NO \"syntax"));
    assert!(s.cmd("GETSCRIPT").await[0].starts_with("NO \"syntax"));
    assert!(s.cmd("PUTSCRIPT \"bad\u{7}name\" \"keep;\"").await[0].starts_with("NO"));
    assert_eq!(s.cmd("NOOP").await, ["OK \"Done\""]);
    assert_eq!(s.cmd("UNAUTHENTICATE").await, ["OK"]);
    assert_eq!(s.cmd("LISTSCRIPTS").await, ["NO \"authenticate first\""]);

    // LOGIN, with its two continuations.
    s.send(b"AUTHENTICATE \"LOGIN\"\r\n").await;
    assert_eq!(s.line().await, format!("\"{}\"", b64("Username:")));
    s.send(format!("\"{}\"\r\n", b64(USER)).as_bytes()).await;
    assert_eq!(s.line().await, format!("\"{}\"", b64("Password:")));
    assert_eq!(s.cmd(&format!("\"{}\"", b64(PASSWORD))).await, ["OK \"Logged in\""]);
    // A cancelled exchange.
    assert_eq!(s.cmd("UNAUTHENTICATE").await, ["OK"]);
    s.send(b"AUTHENTICATE \"PLAIN\"\r\n").await;
    assert_eq!(s.line().await, "\"\"");
    assert_eq!(s.cmd("\"*\"").await, ["NO \"authentication cancelled\""]);
    assert_eq!(s.cmd("LOGOUT").await, ["OK \"Logout\""]);
    assert_eq!(s.line().await, "", "closed after LOGOUT");
    // The store saw it all.
    let acc = server.store.account(server.store.account_id(USER).unwrap().unwrap()).unwrap();
    assert_eq!(acc.sieve_script("second").await.unwrap().as_deref(), Some("keep;"));
}

#[tokio::test]
async fn starttls_then_authenticate() {
    use tokio_rustls::TlsConnector;
    let server = common::start().await;
    let (mut s, _) = Sieve::connect(server.managesieve_addr).await;
    assert_eq!(s.cmd("STARTTLS").await, ["OK \"Begin TLS negotiation now\""]);
    let tcp = s.io.into_inner();
    let connector = TlsConnector::from(common::pinned_tls(&server.fingerprint));
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let tls = connector.connect(name, tcp).await.expect("TLS handshake");
    let mut s = Sieve { io: tokio::io::BufReader::new(tls) };
    // RFC 5804 §2.2: capabilities again, without STARTTLS.
    let caps = s.response().await;
    assert!(caps.contains(&"\"VERSION\" \"1.0\"".to_string()), "{caps:?}");
    assert!(!caps.contains(&"\"STARTTLS\"".to_string()), "{caps:?}");
    let r = s.cmd(&format!("AUTHENTICATE \"PLAIN\" \"{}\"", plain_b64(USER, PASSWORD))).await;
    assert_eq!(r, ["OK \"Logged in\""]);
    assert_eq!(s.cmd("STARTTLS").await[0], "NO \"STARTTLS is only allowed before authentication\"");
    assert_eq!(s.cmd("LISTSCRIPTS").await, ["OK"]);
}

#[tokio::test]
async fn oversized_literal_and_garbage_do_not_hurt() {
    let server = common::start().await;
    let (mut s, _) = Sieve::connect(server.managesieve_addr).await;
    for junk in ["\"unterminated\r\n", "{x}\r\n", "\u{1}\u{2}\r\n", "\"a\\q\"\r\n", "()\r\n", "NOOP \"a\" \"b\"\r\n"] {
        let r = s.cmd(junk.trim_end()).await;
        assert!(r[0].starts_with("NO "), "{junk:?} → {r:?}");
    }
    assert_eq!(s.cmd("NOOP").await, ["OK \"Done\""]);
    // Before authentication a literal may hold 8 KiB.
    let r = s.cmd("AUTHENTICATE \"PLAIN\" {100000+}").await;
    assert!(r[0].starts_with("BYE "), "{r:?}");
}

/// Random lines never panic the parser, and a live session survives them.
#[tokio::test]
async fn fuzzed_lines() {
    use postfach::managesieve::parser::{parse_command, Parse};
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let alphabet = b"PUTSCRIPT GETSCRIPT \"\\{}+0123456789\r\n\x00\xff()*AUTHENTICATE ";
    let mut lines = Vec::new();
    for _ in 0..20_000 {
        let len = (next() % 60) as usize;
        let line: Vec<u8> = (0..len).map(|_| alphabet[(next() % alphabet.len() as u64) as usize]).collect();
        match parse_command(&line, 256, 64) {
            Parse::Done { consumed, .. } | Parse::Error { consumed, .. } => assert!(consumed <= line.len()),
            Parse::NeedMore | Parse::Fatal(_) => {}
        }
        if lines.len() < 200 && !line.contains(&b'{') && line.ends_with(b"\r\n") {
            lines.push(line);
        }
    }
    let server = common::start().await;
    let (mut s, _) = Sieve::connect(server.managesieve_addr).await;
    for l in &lines {
        s.send(l).await;
    }
    // Whatever came back, the server is still there (or said BYE after too many errors).
    let (mut fresh, _) = Sieve::connect(server.managesieve_addr).await;
    assert_eq!(fresh.cmd("NOOP").await, ["OK \"Done\""]);
}

/// Debian's `sieve-connect` uploads, lists, activates and downloads a script.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sieve_connect_client() {
    if std::process::Command::new("sieve-connect").arg("--help").output().is_err() {
        if std::env::var_os("CI").is_some() {
            panic!("sieve-connect is not installed (CI is set): apt-get install sieve-connect");
        }
        eprintln!("skipping: sieve-connect is not installed");
        return;
    }
    let server = common::start().await;
    let port = server.managesieve_addr.port().to_string();
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("rules.sieve");
    std::fs::write(&script, "require \"fileinto\";\nif header :contains \"subject\" \"[dev]\" { fileinto \"Dev\"; }\n")
        .unwrap();
    let run = move |args: Vec<String>| {
        use std::io::Write as _;
        let mut child = std::process::Command::new("sieve-connect")
            .args(["--server", "127.0.0.1", "--port", &port, "--user", USER, "--passwordfd", "0", "--notlsverify"])
            .args(&args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn sieve-connect");
        child.stdin.take().unwrap().write_all(format!("{PASSWORD}\n").as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "sieve-connect {args:?} failed: {text}");
        text
    };
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let local = script.display().to_string();
    let down = dir.path().join("down.sieve").display().to_string();
    tokio::task::spawn_blocking(move || {
        run(s(&["--upload", "--localsieve", &local, "--remotesieve", "rules"]));
        run(s(&["--activate", "--remotesieve", "rules"]));
        let listed = run(s(&["--list"]));
        assert!(listed.contains("rules"), "{listed}");
        assert!(listed.to_lowercase().contains("active"), "{listed}");
        run(s(&["--download", "--remotesieve", "rules", "--localsieve", &down]));
        assert_eq!(std::fs::read_to_string(&down).unwrap(), std::fs::read_to_string(&local).unwrap());
    })
    .await
    .unwrap();
    let acc = server.store.account(server.store.account_id(USER).unwrap().unwrap()).unwrap();
    assert_eq!(acc.sieve_active().await.unwrap().map(|x| x.0).as_deref(), Some("rules"));
}
