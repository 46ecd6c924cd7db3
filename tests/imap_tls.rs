//! TLS: implicit TLS on the IMAPS port, STARTTLS on the plain port (RFC 9051
//! §6.2.1), no command injection across the STARTTLS boundary (RFC 3207 §6,
//! CVE-2011-0411), and certificate pinning on the client side.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use common::{Raw, PASSWORD, TIMEOUT, USER};
use futures::StreamExt as _;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

fn server_name() -> rustls_pki_types::ServerName<'static> {
    rustls_pki_types::ServerName::try_from("localhost").unwrap().to_owned()
}

async fn handshake(tcp: TcpStream, config: Arc<rustls::ClientConfig>) -> std::io::Result<TlsStream<TcpStream>> {
    let connector = tokio_rustls::TlsConnector::from(config);
    tokio::time::timeout(TIMEOUT, connector.connect(server_name(), tcp)).await.expect("handshake timed out")
}

/// A raw IMAP client over TLS (the harness's `Raw` is plain TCP only).
struct TlsRaw {
    io: BufReader<TlsStream<TcpStream>>,
    greeting: String,
}

impl TlsRaw {
    fn new(tls: TlsStream<TcpStream>) -> TlsRaw {
        TlsRaw { io: BufReader::new(tls), greeting: String::new() }
    }

    /// Implicit TLS: connect, handshake, read the greeting.
    async fn connect(addr: SocketAddr, fingerprint: &str) -> TlsRaw {
        let tcp = TcpStream::connect(addr).await.expect("connect");
        let tls = handshake(tcp, common::pinned_tls(fingerprint)).await.expect("TLS handshake");
        let mut raw = TlsRaw::new(tls);
        raw.greeting = raw.line().await;
        assert!(raw.greeting.starts_with("* OK"), "greeting: {}", raw.greeting);
        raw
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.io.get_mut().write_all(bytes).await.expect("write");
        self.io.get_mut().flush().await.expect("flush");
    }

    async fn line(&mut self) -> String {
        let mut line = Vec::new();
        let n = tokio::time::timeout(TIMEOUT, self.io.read_until(b'\n', &mut line))
            .await
            .expect("timed out waiting for a response line")
            .expect("read");
        assert!(n > 0, "connection closed");
        String::from_utf8_lossy(&line).trim_end_matches(['\r', '\n']).to_string()
    }

    async fn maybe_line(&mut self, wait: Duration) -> Option<String> {
        let mut line = Vec::new();
        match tokio::time::timeout(wait, self.io.read_until(b'\n', &mut line)).await {
            Ok(Ok(n)) if n > 0 => Some(String::from_utf8_lossy(&line).trim_end().to_string()),
            _ => None,
        }
    }

    async fn until_tagged(&mut self, tag: &str) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let l = self.line().await;
            let done = l.starts_with(&format!("{tag} "));
            lines.push(l);
            if done {
                return lines;
            }
        }
    }

    async fn cmd(&mut self, command: &str) -> Vec<String> {
        self.send(format!("T {command}\r\n").as_bytes()).await;
        self.until_tagged("T").await
    }
}

fn last(r: &[String]) -> &str {
    r.last().map(String::as_str).unwrap_or("")
}

fn caps_of(line: &str) -> Vec<String> {
    let body = if let Some(i) = line.find("[CAPABILITY ") {
        let rest = &line[i + "[CAPABILITY ".len()..];
        &rest[..rest.find(']').expect("unterminated code")]
    } else if let Some(rest) = line.strip_prefix("* CAPABILITY ") {
        rest
    } else {
        panic!("no capabilities in {line:?}")
    };
    body.split(' ').map(|s| s.to_ascii_uppercase()).collect()
}

fn capability_data(r: &[String]) -> Vec<String> {
    caps_of(r.iter().find(|l| l.starts_with("* CAPABILITY ")).unwrap_or_else(|| panic!("{r:?}")))
}

/// Plain connection, `STARTTLS`, handshake. Returns the TLS client.
async fn starttls(addr: SocketAddr, fingerprint: &str) -> TlsRaw {
    let mut raw = Raw::connect(addr).await;
    assert!(caps_of(&raw.greeting).contains(&"STARTTLS".to_string()), "{}", raw.greeting);
    let r = raw.cmd("STARTTLS").await;
    assert_eq!(r.len(), 1, "{r:?}");
    assert!(last(&r).starts_with("T OK"), "{r:?}");
    assert!(raw.io.buffer().is_empty(), "plaintext after STARTTLS OK: {:?}", raw.io.buffer());
    let tcp = raw.io.into_inner();
    let tls = handshake(tcp, common::pinned_tls(fingerprint)).await.expect("STARTTLS handshake");
    TlsRaw::new(tls)
}

const WRONG_FINGERPRINT: &str =
    "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF";

// ----- implicit TLS -----

#[tokio::test]
async fn implicit_tls_greeting_and_login() {
    let server = common::start().await;
    let mut t = TlsRaw::connect(server.tls_addr, &server.fingerprint).await;
    assert!(t.greeting.starts_with("* OK [CAPABILITY "), "{}", t.greeting);
    let caps = caps_of(&t.greeting);
    assert!(caps.contains(&"IMAP4REV2".to_string()), "{caps:?}");
    assert!(!caps.contains(&"STARTTLS".to_string()), "STARTTLS on an implicit TLS connection: {caps:?}");
    assert!(!caps.contains(&"LOGINDISABLED".to_string()), "{caps:?}");
    assert!(caps.contains(&"AUTH=PLAIN".to_string()), "{caps:?}");
    let r = t.cmd("CAPABILITY").await;
    assert!(last(&r).starts_with("T OK"), "{r:?}");
    assert!(!capability_data(&r).contains(&"STARTTLS".to_string()), "{r:?}");
    let r = t.cmd(&format!("LOGIN {USER} \"{PASSWORD}\"")).await;
    assert!(last(&r).starts_with("T OK"), "{r:?}");
    let r = t.cmd("SELECT INBOX").await;
    assert!(last(&r).starts_with("T OK"), "{r:?}");
    let r = t.cmd("LOGOUT").await;
    assert!(r.iter().any(|l| l.starts_with("* BYE")), "{r:?}");
    assert!(last(&r).starts_with("T OK"), "{r:?}");
}

#[tokio::test]
async fn starttls_on_implicit_tls_is_refused() {
    let server = common::start().await;
    let mut t = TlsRaw::connect(server.tls_addr, &server.fingerprint).await;
    let r = t.cmd("STARTTLS").await;
    assert!(last(&r).starts_with("T BAD") || last(&r).starts_with("T NO"), "{r:?}");
    let r = t.cmd("NOOP").await;
    assert!(last(&r).starts_with("T OK"), "{r:?}");
}

#[tokio::test]
async fn implicit_tls_authenticate_plain() {
    use base64::Engine as _;
    let server = common::start().await;
    let mut t = TlsRaw::connect(server.tls_addr, &server.fingerprint).await;
    let ir = base64::engine::general_purpose::STANDARD.encode(format!("\0{USER}\0{PASSWORD}"));
    let r = t.cmd(&format!("AUTHENTICATE PLAIN {ir}")).await;
    assert!(last(&r).starts_with("T OK"), "{r:?}");
}

#[tokio::test]
async fn plaintext_client_on_the_tls_port_gets_no_imap() {
    let server = common::start().await;
    let mut tcp = TcpStream::connect(server.tls_addr).await.unwrap();
    tcp.write_all(b"a NOOP\r\n").await.unwrap();
    let mut buf = vec![0u8; 1024];
    // Either an alert and/or EOF; never a plaintext IMAP response, never a hang.
    let n = match tokio::time::timeout(TIMEOUT, tcp.read(&mut buf)).await.expect("server hangs") {
        Ok(n) => n,
        Err(_) => 0,
    };
    assert!(!buf[..n].starts_with(b"* ") && !buf[..n].starts_with(b"a "), "{:?}", &buf[..n]);
    // The listener still serves TLS clients.
    let mut t = TlsRaw::connect(server.tls_addr, &server.fingerprint).await;
    let r = t.cmd("NOOP").await;
    assert!(last(&r).starts_with("T OK"), "{r:?}");
}

// ----- STARTTLS -----

#[tokio::test]
async fn starttls_then_capability_lacks_starttls_and_login_works() {
    let server = common::start().await;
    let mut t = starttls(server.addr, &server.fingerprint).await;
    let r = t.cmd("CAPABILITY").await;
    assert!(last(&r).starts_with("T OK"), "{r:?}");
    let caps = capability_data(&r);
    assert!(!caps.contains(&"STARTTLS".to_string()), "{r:?}");
    assert!(caps.contains(&"IMAP4REV2".to_string()), "{r:?}");
    assert!(caps.contains(&"AUTH=PLAIN".to_string()), "{r:?}");
    let r = t.cmd(&format!("LOGIN {USER} \"{PASSWORD}\"")).await;
    assert!(last(&r).starts_with("T OK"), "{r:?}");
    let r = t.cmd("SELECT INBOX").await;
    assert!(last(&r).starts_with("T OK"), "{r:?}");
}

#[tokio::test]
async fn second_starttls_is_refused() {
    let server = common::start().await;
    let mut t = starttls(server.addr, &server.fingerprint).await;
    let r = t.cmd("STARTTLS").await;
    assert_eq!(r.len(), 1, "{r:?}");
    assert!(last(&r).starts_with("T BAD"), "{r:?}");
    // The TLS session goes on.
    let r = t.cmd("NOOP").await;
    assert!(last(&r).starts_with("T OK"), "{r:?}");
    let r = t.cmd(&format!("LOGIN {USER} \"{PASSWORD}\"")).await;
    assert!(last(&r).starts_with("T OK"), "{r:?}");
}

#[tokio::test]
async fn starttls_with_arguments_is_bad() {
    let server = common::start().await;
    let mut raw = Raw::connect(server.addr).await;
    let r = raw.cmd("STARTTLS now").await;
    assert!(last(&r).starts_with("T BAD"), "{r:?}");
    // Still plain and usable.
    let r = raw.cmd("NOOP").await;
    assert!(last(&r).starts_with("T OK"), "{r:?}");
}

#[tokio::test]
async fn bytes_pipelined_after_starttls_are_not_executed() {
    // RFC 3207 §6 / CVE-2011-0411: plaintext sent after STARTTLS in the same
    // packet must not be executed as if it had come over TLS.
    let server = common::start().await;
    let mut raw = Raw::connect(server.addr).await;
    raw.send(b"T STARTTLS\r\nX NOOP\r\n").await;
    let l = raw.line().await;
    assert!(l.starts_with("T OK"), "{l:?}");
    // No plaintext answer to X either.
    assert!(raw.maybe_line(Duration::from_millis(200)).await.is_none(), "plaintext answer after STARTTLS");
    let tcp = raw.io.into_inner();
    let tls = handshake(tcp, common::pinned_tls(&server.fingerprint)).await.expect("handshake");
    let mut t = TlsRaw::new(tls);
    let early = t.maybe_line(Duration::from_millis(300)).await;
    assert!(early.is_none(), "unsolicited data after the handshake: {early:?}");
    let r = t.cmd("NOOP").await;
    assert!(r[..r.len() - 1].iter().all(|l| l.starts_with("* ")), "{r:?}");
    assert!(!r.iter().any(|l| l.starts_with("X ")), "injected command was executed: {r:?}");
    assert!(last(&r).starts_with("T OK"), "{r:?}");
}

#[tokio::test]
async fn login_injected_before_starttls_handshake_does_not_authenticate() {
    let server = common::start().await;
    let mut raw = Raw::connect(server.addr).await;
    raw.send(format!("T STARTTLS\r\nX LOGIN {USER} \"{PASSWORD}\"\r\n").as_bytes()).await;
    let l = raw.line().await;
    assert!(l.starts_with("T OK"), "{l:?}");
    let tcp = raw.io.into_inner();
    let tls = handshake(tcp, common::pinned_tls(&server.fingerprint)).await.expect("handshake");
    let mut t = TlsRaw::new(tls);
    let r = t.cmd("SELECT INBOX").await;
    assert!(!r.iter().any(|l| l.starts_with("X ")), "injected LOGIN answered: {r:?}");
    assert!(last(&r).starts_with("T BAD") || last(&r).starts_with("T NO"), "injected LOGIN took effect: {r:?}");
    // The session is still not authenticated and can log in properly.
    let r = t.cmd(&format!("LOGIN {USER} \"{PASSWORD}\"")).await;
    assert!(last(&r).starts_with("T OK"), "{r:?}");
}

// ----- pinning -----

#[tokio::test]
async fn wrong_fingerprint_fails_the_handshake() {
    let server = common::start().await;
    assert_ne!(server.fingerprint.to_ascii_uppercase(), WRONG_FINGERPRINT);
    // Implicit TLS.
    let tcp = TcpStream::connect(server.tls_addr).await.unwrap();
    let result = handshake(tcp, common::pinned_tls(WRONG_FINGERPRINT)).await;
    assert!(result.is_err(), "handshake with a wrong pin must fail");
    // STARTTLS.
    let mut raw = Raw::connect(server.addr).await;
    let r = raw.cmd("STARTTLS").await;
    assert!(last(&r).starts_with("T OK"), "{r:?}");
    let result = handshake(raw.io.into_inner(), common::pinned_tls(WRONG_FINGERPRINT)).await;
    assert!(result.is_err(), "STARTTLS handshake with a wrong pin must fail");
    // The right pin still works: the server survived the aborted handshakes.
    let mut t = TlsRaw::connect(server.tls_addr, &server.fingerprint).await;
    let r = t.cmd("NOOP").await;
    assert!(last(&r).starts_with("T OK"), "{r:?}");
}

#[tokio::test]
async fn fingerprint_is_sha256_hex_with_colons() {
    let server = common::start().await;
    let parts: Vec<&str> = server.fingerprint.split(':').collect();
    assert_eq!(parts.len(), 32, "{}", server.fingerprint);
    assert!(parts.iter().all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit())), "{}", server.fingerprint);
}

// ----- an independent client over TLS -----

#[tokio::test]
async fn async_imap_over_implicit_tls() {
    let server = common::start().await;
    let mut setup = Raw::login(server.addr).await;
    let msg = common::message("tls", "over TLS");
    common::append(&mut setup, "INBOX", &msg).await;

    let tcp = TcpStream::connect(server.tls_addr).await.unwrap();
    let tls = handshake(tcp, common::pinned_tls(&server.fingerprint)).await.expect("handshake");
    let mut client = async_imap::Client::new(tls);
    let _ = client.read_response().await.expect("greeting").expect("greeting io");
    let mut session = client.login(USER, PASSWORD).await.map_err(|(e, _)| e).expect("login");
    let caps = session.capabilities().await.expect("capabilities");
    assert!(caps.has_str("IMAP4rev2"));
    assert!(!caps.has_str("STARTTLS"));
    let mailbox = session.select("INBOX").await.expect("select");
    assert_eq!(mailbox.exists, 1);
    let bodies: Vec<Vec<u8>> = {
        let stream = session.uid_fetch("1:*", "BODY.PEEK[]").await.expect("fetch");
        let fetches: Vec<_> = stream.collect().await;
        fetches.into_iter().map(|f| f.expect("fetch item").body().expect("body").to_vec()).collect()
    };
    assert_eq!(bodies, vec![msg]);
    session.logout().await.expect("logout");
}

#[tokio::test]
async fn async_imap_over_starttls() {
    let server = common::start().await;
    let tcp = TcpStream::connect(server.addr).await.unwrap();
    let mut client = async_imap::Client::new(tcp);
    let _ = client.read_response().await.expect("greeting").expect("greeting io");
    client.run_command_and_check_ok("STARTTLS", None).await.expect("STARTTLS");
    let tcp = client.into_inner();
    let tls = handshake(tcp, common::pinned_tls(&server.fingerprint)).await.expect("handshake");
    let client = async_imap::Client::new(tls);
    let mut session = client.login(USER, PASSWORD).await.map_err(|(e, _)| e).expect("login");
    let caps = session.capabilities().await.expect("capabilities");
    assert!(!caps.has_str("STARTTLS"));
    session.noop().await.expect("noop");
    session.logout().await.expect("logout");
}
