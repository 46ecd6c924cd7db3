//! Test harness: a real postfach server on `127.0.0.1:0` in its own temp
//! directory, a raw-protocol client for transcripts, and an `async-imap`
//! client (an independent parser) for the client's-eye view.
#![allow(dead_code)]

pub mod zclient;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use postfach::config::Config;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

pub const USER: &str = "alice";
pub const PASSWORD: &str = "correct horse battery staple";

/// How long any single read waits before the test fails (never hangs).
pub const TIMEOUT: Duration = Duration::from_secs(10);

pub struct TestServer {
    pub dir: tempfile::TempDir,
    pub addr: SocketAddr,
    pub tls_addr: SocketAddr,
    pub lmtp_addr: SocketAddr,
    pub managesieve_addr: SocketAddr,
    pub store: store::Store,
    /// SHA-256 fingerprint of the server certificate (hex with colons).
    pub fingerprint: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub async fn start() -> TestServer {
    start_with(|_| {}).await
}

/// A config for a second server on an existing data directory: plain IMAP
/// on `127.0.0.1:0` only (no default ports, which a running server may
/// hold), nothing relayed.
pub fn imap_only_config() -> Config {
    let mut config = Config::default();
    config.listen.imap = Some("127.0.0.1:0".parse().unwrap());
    config.listen.imaps = None;
    config.listen.lmtp = None;
    config.listen.managesieve = None;
    config.submission.relay = None;
    config
}

/// Starts a server with `alice` as the only account; `tweak` adjusts the config.
pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> TestServer {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = Config::default();
    config.listen.imap = Some("127.0.0.1:0".parse().unwrap());
    config.listen.imaps = Some("127.0.0.1:0".parse().unwrap());
    config.listen.lmtp = Some("127.0.0.1:0".parse().unwrap());
    config.listen.managesieve = Some("127.0.0.1:0".parse().unwrap());
    // Nothing is sent anywhere unless a test points this at its own sink.
    config.submission.relay = None;
    tweak(&mut config);
    let store = store::Store::open(dir.path()).expect("open store");
    store.create_account(USER, &postfach::auth::hash_password(PASSWORD)).expect("create account");
    let (tls, fingerprint) = postfach::tls::load_or_generate(&config.tls, dir.path()).expect("tls");
    let server = postfach::imap::Server::bind(config, store.clone(), tls).await.expect("bind");
    let addr = server.imap_addr().expect("imap addr");
    let tls_addr = server.imaps_addr().expect("imaps addr");
    let lmtp_addr = server.lmtp_addr().expect("lmtp addr");
    let managesieve_addr = server.managesieve_addr().expect("managesieve addr");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.run(async move {
        let _ = rx.await;
    }));
    TestServer { dir, addr, tls_addr, lmtp_addr, managesieve_addr, store, fingerprint, shutdown: Some(tx) }
}

/// A raw IMAP connection: send lines, read responses, compare transcripts.
pub struct Raw {
    pub io: BufReader<TcpStream>,
    pub greeting: String,
}

impl Raw {
    pub async fn connect(addr: SocketAddr) -> Raw {
        let tcp = TcpStream::connect(addr).await.expect("connect");
        let mut raw = Raw { io: BufReader::new(tcp), greeting: String::new() };
        raw.greeting = raw.line().await;
        assert!(raw.greeting.starts_with("* OK"), "greeting: {}", raw.greeting);
        raw
    }

    /// Connects and logs in as alice.
    pub async fn login(addr: SocketAddr) -> Raw {
        let mut raw = Raw::connect(addr).await;
        let r = raw.cmd(&format!("LOGIN {USER} \"{PASSWORD}\"")).await;
        assert!(r.last().unwrap().starts_with("T OK"), "{r:?}");
        raw
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        self.io.get_mut().write_all(bytes).await.expect("write");
    }

    /// Reads one response line (without CRLF); a line announcing a literal
    /// gets the literal and the rest of the line appended.
    pub async fn line(&mut self) -> String {
        read_line_with_literals(&mut self.io).await
    }

    /// Sends `T <command>` and returns every line up to and including the
    /// tagged response.
    pub async fn cmd(&mut self, command: &str) -> Vec<String> {
        self.tagged("T", command).await
    }

    pub async fn tagged(&mut self, tag: &str, command: &str) -> Vec<String> {
        self.send(format!("{tag} {command}\r\n").as_bytes()).await;
        self.until_tagged(tag).await
    }

    pub async fn until_tagged(&mut self, tag: &str) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let l = self.line().await;
            if l.is_empty() && self.eof().await {
                panic!("connection closed; got {lines:?}");
            }
            let done = l.starts_with(&format!("{tag} "));
            lines.push(l);
            if done {
                return lines;
            }
        }
    }

    async fn eof(&mut self) -> bool {
        matches!(tokio::time::timeout(Duration::from_millis(50), self.io.fill_buf()).await, Ok(Ok(b)) if b.is_empty())
    }

    /// Waits up to `wait` for one line; `None` if nothing came.
    pub async fn maybe_line(&mut self, wait: Duration) -> Option<String> {
        let mut line = Vec::new();
        match tokio::time::timeout(wait, self.io.read_until(b'\n', &mut line)).await {
            Ok(Ok(n)) if n > 0 => Some(String::from_utf8_lossy(&line).trim_end().to_string()),
            _ => None,
        }
    }
}

/// Reads one IMAP or ManageSieve response line (without CRLF); a line that
/// announces a literal (`{N}` at its end) gets the literal and the rest of
/// the line appended. Empty at EOF.
async fn read_line_with_literals<R: tokio::io::AsyncBufRead + Unpin>(io: &mut R) -> String {
    let mut out = Vec::new();
    loop {
        let mut line = Vec::new();
        let n = tokio::time::timeout(TIMEOUT, io.read_until(b'\n', &mut line))
            .await
            .expect("timed out waiting for a response line")
            .expect("read");
        if n == 0 {
            return String::from_utf8_lossy(&out).into_owned();
        }
        if line.ends_with(b"\r\n") {
            line.truncate(line.len() - 2);
        }
        out.extend_from_slice(&line);
        if let Some(len) = literal_len(&line) {
            let mut lit = vec![0u8; len];
            tokio::time::timeout(TIMEOUT, io.read_exact(&mut lit)).await.expect("timeout").expect("read");
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(&lit);
            continue;
        }
        return String::from_utf8_lossy(&out).into_owned();
    }
}

fn literal_len(line: &[u8]) -> Option<usize> {
    let s = std::str::from_utf8(line).ok()?;
    let s = s.strip_suffix('}')?;
    let open = s.rfind('{')?;
    s[open + 1..].trim_end_matches('+').parse().ok()
}

/// An `async-imap` session logged in as alice over plain TCP (loopback).
pub async fn client(addr: SocketAddr) -> async_imap::Session<TcpStream> {
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let mut client = async_imap::Client::new(tcp);
    let _greeting = client.read_response().await.expect("greeting").expect("greeting io");
    client.login(USER, PASSWORD).await.map_err(|(e, _)| e).expect("login")
}

/// A simple RFC 5322 message.
pub fn message(subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Bob <bob@example.org>\r\nTo: Alice <alice@example.org>\r\nSubject: {subject}\r\n\
         Date: Mon, 7 Feb 1994 21:52:25 -0800\r\nMessage-ID: <{subject}@example.org>\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

/// Appends a message through the raw client; returns its UID.
pub async fn append(raw: &mut Raw, mailbox: &str, msg: &[u8]) -> u32 {
    raw.send(format!("A APPEND {mailbox} {{{}+}}\r\n", msg.len()).as_bytes()).await;
    raw.send(msg).await;
    raw.send(b"\r\n").await;
    let r = raw.until_tagged("A").await;
    let last = r.last().unwrap();
    assert!(last.starts_with("A OK [APPENDUID "), "{r:?}");
    last.split_whitespace().nth(4).unwrap().trim_end_matches(']').parse().unwrap()
}

/// A rustls client config that accepts exactly the certificate with this
/// SHA-256 fingerprint (certificate pinning, as a user would after `serve`
/// printed the fingerprint).
pub fn pinned_tls(fingerprint: &str) -> Arc<rustls::ClientConfig> {
    #[derive(Debug)]
    struct Pinned(String, Arc<rustls::crypto::CryptoProvider>);
    impl rustls::client::danger::ServerCertVerifier for Pinned {
        fn verify_server_cert(
            &self,
            end_entity: &rustls_pki_types::CertificateDer<'_>,
            _: &[rustls_pki_types::CertificateDer<'_>],
            _: &rustls_pki_types::ServerName<'_>,
            _: &[u8],
            _: rustls_pki_types::UnixTime,
        ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
            use sha2::Digest;
            let fp: Vec<String> =
                sha2::Sha256::digest(end_entity.as_ref()).iter().map(|b| format!("{b:02X}")).collect();
            if fp.join(":").eq_ignore_ascii_case(&self.0) {
                Ok(rustls::client::danger::ServerCertVerified::assertion())
            } else {
                Err(rustls::Error::General("fingerprint mismatch".into()))
            }
        }
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &rustls_pki_types::CertificateDer<'_>,
            dss: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(message, cert, dss, &self.1.signature_verification_algorithms)
        }
        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &rustls_pki_types::CertificateDer<'_>,
            dss: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(message, cert, dss, &self.1.signature_verification_algorithms)
        }
        fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
            self.1.signature_verification_algorithms.supported_schemes()
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Pinned(fingerprint.to_string(), provider)))
        .with_no_client_auth();
    Arc::new(config)
}

/// A raw LMTP connection (RFC 2033).
pub struct Lmtp {
    pub io: BufReader<TcpStream>,
}

impl Lmtp {
    /// Connects and reads the 220 greeting.
    pub async fn connect(addr: SocketAddr) -> Lmtp {
        let tcp = TcpStream::connect(addr).await.expect("connect lmtp");
        let mut l = Lmtp { io: BufReader::new(tcp) };
        let g = l.reply().await;
        assert!(g[0].starts_with("220 "), "greeting {g:?}");
        l
    }

    /// Connects and sends LHLO.
    pub async fn hello(addr: SocketAddr) -> Lmtp {
        let mut l = Lmtp::connect(addr).await;
        let r = l.cmd("LHLO test.example").await;
        assert!(r.last().unwrap().starts_with("250 "), "{r:?}");
        l
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        self.io.get_mut().write_all(bytes).await.expect("write");
    }

    /// One reply: every line up to the one with a space after the code.
    pub async fn reply(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            let n = tokio::time::timeout(TIMEOUT, self.io.read_line(&mut line))
                .await
                .expect("timed out waiting for an LMTP reply")
                .expect("read");
            assert!(n > 0, "connection closed; got {lines:?}");
            let line = line.trim_end().to_string();
            let last = line.as_bytes().get(3) != Some(&b'-');
            lines.push(line);
            if last {
                return lines;
            }
        }
    }

    /// Sends one command line and returns its reply.
    pub async fn cmd(&mut self, line: &str) -> Vec<String> {
        self.send(format!("{line}\r\n").as_bytes()).await;
        self.reply().await
    }

    /// Sends the message after a 354 (dot-stuffed, CRLF assumed) and returns
    /// `n` replies, one per accepted recipient.
    pub async fn data(&mut self, message: &[u8], n: usize) -> Vec<String> {
        let r = self.cmd("DATA").await;
        assert!(r[0].starts_with("354 "), "{r:?}");
        self.send(&dot_stuff(message)).await;
        self.send(b".\r\n").await;
        let mut out = Vec::new();
        for _ in 0..n {
            out.push(self.reply().await.remove(0));
        }
        out
    }

    /// One whole transaction; returns the replies after DATA.
    pub async fn deliver(&mut self, from: &str, to: &[&str], message: &[u8]) -> Vec<String> {
        assert!(self.cmd(&format!("MAIL FROM:<{from}>")).await[0].starts_with("250 "));
        let mut accepted = 0;
        for t in to {
            if self.cmd(&format!("RCPT TO:<{t}>")).await[0].starts_with("250 ") {
                accepted += 1;
            }
        }
        self.data(message, accepted).await
    }
}

/// RFC 5321 §4.5.2: a dot at the start of a line is doubled. The message
/// must end with a line break.
pub fn dot_stuff(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 16);
    let mut at_line_start = true;
    for &b in message {
        if at_line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        at_line_start = b == b'\n';
    }
    out
}

/// Reads `UID FETCH uid (RFC822.SIZE BODY.PEEK[])` over a logged-in raw
/// connection with INBOX selected: the size and the exact bytes.
pub async fn fetch_raw(raw: &mut Raw, uid: u32) -> (u64, Vec<u8>) {
    raw.send(format!("F UID FETCH {uid} (RFC822.SIZE BODY.PEEK[])\r\n").as_bytes()).await;
    let mut head = Vec::new();
    tokio::time::timeout(TIMEOUT, raw.io.read_until(b'\n', &mut head)).await.expect("timeout").expect("read");
    let head = String::from_utf8_lossy(&head).into_owned();
    let size: u64 = head.split("RFC822.SIZE ").nth(1).expect("size").split(' ').next().unwrap().parse().unwrap();
    let len: usize = literal_len(head.trim_end().as_bytes()).expect("literal");
    let mut body = vec![0u8; len];
    tokio::time::timeout(TIMEOUT, raw.io.read_exact(&mut body)).await.expect("timeout").expect("read");
    let rest = raw.until_tagged("F").await;
    assert!(rest.last().unwrap().starts_with("F OK"), "{rest:?}");
    (size, body)
}

/// Files under DATA/blobs (not counting the temp directory).
pub fn count_blobs(data: &std::path::Path) -> usize {
    let mut n = 0;
    for d in std::fs::read_dir(data.join("blobs")).expect("blobs dir").flatten() {
        if d.file_name() == "tmp" || !d.path().is_dir() {
            continue;
        }
        n += std::fs::read_dir(d.path()).expect("blob subdir").count();
    }
    n
}

/// A raw ManageSieve (RFC 5804) connection.
pub struct Sieve<S> {
    pub io: BufReader<S>,
}

impl Sieve<TcpStream> {
    /// Connects; returns the client and the greeting (capabilities + OK).
    pub async fn connect(addr: SocketAddr) -> (Self, Vec<String>) {
        let tcp = TcpStream::connect(addr).await.expect("connect managesieve");
        let mut s = Sieve { io: BufReader::new(tcp) };
        let greeting = s.response().await;
        assert!(greeting.last().unwrap().starts_with("OK"), "{greeting:?}");
        (s, greeting)
    }

    /// Connects and authenticates as alice (PLAIN with initial response).
    pub async fn login(addr: SocketAddr) -> Self {
        let (mut s, _) = Sieve::connect(addr).await;
        let r = s.cmd(&format!("AUTHENTICATE \"PLAIN\" \"{}\"", plain_b64(USER, PASSWORD))).await;
        assert_eq!(r.last().unwrap(), "OK \"Logged in\"", "{r:?}");
        s
    }
}

/// base64 of a SASL PLAIN message.
pub fn plain_b64(user: &str, password: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{password}"))
}

impl<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin> Sieve<S> {
    pub async fn send(&mut self, bytes: &[u8]) {
        self.io.get_mut().write_all(bytes).await.expect("write");
    }

    /// One line (literals appended, as `Raw::line` does).
    pub async fn line(&mut self) -> String {
        read_line_with_literals(&mut self.io).await
    }

    /// Every line up to and including the one starting with OK, NO or BYE.
    pub async fn response(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let l = self.line().await;
            if l.is_empty() {
                panic!("connection closed; got {lines:?}");
            }
            let done = ["OK", "NO", "BYE"].iter().any(|w| l == *w || l.starts_with(&format!("{w} ")));
            lines.push(l);
            if done {
                return lines;
            }
        }
    }

    pub async fn cmd(&mut self, line: &str) -> Vec<String> {
        self.send(format!("{line}\r\n").as_bytes()).await;
        self.response().await
    }

    /// PUTSCRIPT with a non-synchronizing literal.
    pub async fn put(&mut self, name: &str, script: &str) -> Vec<String> {
        self.send(format!("PUTSCRIPT \"{name}\" {{{}+}}\r\n{script}\r\n", script.len()).as_bytes()).await;
        self.response().await
    }
}

/// Runs the real `postfach` binary on the data directory `data` with `args`,
/// feeding it `stdin` (the CLI as an admin types it).
pub fn postfach_cli(data: &std::path::Path, args: &[&str], stdin: &[u8]) -> std::process::Output {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_postfach"))
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("POSTFACH_DATA")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start postfach");
    let mut pipe = child.stdin.take().unwrap();
    // The process may exit before reading (e.g. an invalid name): ignore EPIPE.
    let _ = pipe.write_all(stdin);
    drop(pipe);
    child.wait_with_output().unwrap()
}

/// Starts the real `postfach --data DATA serve ARGS…` with its log (plain
/// text, `RUST_LOG=info`) delivered line by line; a thread keeps draining
/// it so the server never blocks on a full pipe. The caller ends the child.
pub fn serve_process(
    data: &std::path::Path,
    args: &[&str],
) -> (std::process::Child, std::sync::mpsc::Receiver<String>) {
    use std::io::BufRead as _;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_postfach"))
        .arg("--data")
        .arg(data)
        .arg("serve")
        .args(args)
        .env_remove("POSTFACH_DATA")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start postfach");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (child, rx)
}

/// The address in a log line such as `IMAP (STARTTLS) listening addr=127.0.0.1:PORT`.
pub fn logged_addr(line: &str) -> Option<SocketAddr> {
    line.split("addr=").nth(1).and_then(|a| a.split_whitespace().next()?.parse().ok())
}
