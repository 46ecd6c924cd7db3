//! The README's first command on a fresh data directory: `serve` writes the
//! commented config, generates a certificate, creates `postmaster` with a
//! printed password, and serves IMAP with it; `user add` works while the
//! server runs and the new account can log in at once.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

/// Ends the server we started, by its PID, even if the test fails.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn login(addr: &str, user: &str, password: &str) -> String {
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut io = tokio::io::BufReader::new(tcp);
    let mut line = String::new();
    io.read_line(&mut line).await.unwrap();
    assert!(line.starts_with("* OK"), "{line}");
    io.get_mut().write_all(format!("a LOGIN {user} \"{password}\"\r\n").as_bytes()).await.unwrap();
    line.clear();
    tokio::time::timeout(Duration::from_secs(10), io.read_line(&mut line)).await.unwrap().unwrap();
    line
}

#[tokio::test]
async fn first_start_creates_config_certificate_and_postmaster() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut child = Command::new(env!("CARGO_BIN_EXE_postfach"))
        .arg("--data")
        .arg(&data)
        .args([
            "serve",
            "--imap",
            "127.0.0.1:0",
            "--imaps",
            "127.0.0.1:0",
            "--lmtp",
            "127.0.0.1:0",
            "--managesieve",
            "127.0.0.1:0",
        ])
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start postfach");
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let server = Server(child);

    // stdout: the postmaster password and the certificate fingerprint.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    // stderr (logs): the bound IMAP address.
    let (etx, erx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let mut r = BufReader::new(stderr);
        let mut buf = [0u8; 4096];
        while let Ok(n) = r.read(&mut buf) {
            if n == 0 {
                break;
            }
            text.push_str(&String::from_utf8_lossy(&buf[..n]));
            let _ = etx.send(text.clone());
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut password = None;
    let mut fingerprint = None;
    let mut addr = None;
    while (password.is_none() || fingerprint.is_none() || addr.is_none()) && Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
            if let Some(p) = line.strip_prefix("postmaster password: ") {
                password = Some(p.trim().to_string());
            }
            if line.starts_with("TLS certificate SHA-256 fingerprint: ") {
                fingerprint = Some(line);
            }
        }
        while let Ok(text) = erx.try_recv() {
            // `IMAP (STARTTLS) listening addr=127.0.0.1:PORT`
            if let Some(rest) = text.split("IMAP (STARTTLS) listening").nth(1) {
                if let Some(a) = rest.split("addr").nth(1) {
                    let a: String = a
                        .trim_start_matches(|c: char| !c.is_ascii_digit())
                        .chars()
                        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':')
                        .collect();
                    if a.contains(':') {
                        addr = Some(a);
                    }
                }
            }
        }
    }
    let password = password.expect("postmaster password printed");
    assert!(password.len() >= 16, "{password}");
    assert!(fingerprint.is_some());
    let addr = addr.expect("listening address logged");

    let config = std::fs::read_to_string(data.join("postfach.toml")).expect("config written");
    // Every setting commented out; only the section headers stand, so that
    // uncommenting one line is enough to change a setting.
    assert!(
        config.lines().filter(|l| !l.trim().is_empty()).all(|l| l.starts_with('#') || l.starts_with('[')),
        "every setting commented:\n{config}"
    );
    assert!(config.contains("max_literal_size"), "{config}");
    assert!(data.join("tls/cert.pem").exists() && data.join("tls/key.pem").exists());

    assert!(login(&addr, "postmaster", &password).await.starts_with("a OK"));
    assert!(login(&addr, "postmaster", "wrong").await.starts_with("a NO"));

    // `user add` while the server runs; the account works at once.
    let mut add = Command::new(env!("CARGO_BIN_EXE_postfach"))
        .arg("--data")
        .arg(&data)
        .args(["user", "add", "carol", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    add.stdin.take().unwrap().write_all(b"carols password\n").unwrap();
    assert!(add.wait().unwrap().success());
    assert!(login(&addr, "carol", "carols password").await.starts_with("a OK"));

    // A second start does not create postmaster again nor rewrite the config.
    drop(server);
    let out =
        Command::new(env!("CARGO_BIN_EXE_postfach")).arg("--data").arg(&data).args(["user", "list"]).output().unwrap();
    let list = String::from_utf8_lossy(&out.stdout);
    assert!(list.contains("postmaster") && list.contains("carol"), "{list}");
}
