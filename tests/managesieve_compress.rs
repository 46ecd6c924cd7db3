//! COMPRESS on ManageSieve (postfach's extension after RFC 4978, see
//! `managesieve` module docs), with the client side written on `flate2`:
//! a whole session through the deflate stream, every answer arriving without
//! the client sending more, and compressed bytes pipelined right after the
//! command.

mod common;

use std::time::Duration;

use common::zclient::Zclient;
use common::Sieve;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const WAIT: Duration = Duration::from_secs(3);

/// Logs in, sends COMPRESS in the clear, and returns the raw socket with
/// nothing buffered (the server sends nothing after the OK until asked).
async fn compressed(addr: std::net::SocketAddr) -> Zclient {
    let mut s = Sieve::login(addr).await;
    assert_eq!(s.cmd("COMPRESS \"DEFLATE\"").await, ["OK \"DEFLATE active\""]);
    assert!(s.io.buffer().is_empty(), "nothing may follow the OK before the client speaks");
    Zclient::new(s.io.into_inner())
}

#[tokio::test]
async fn a_full_session_through_deflate() {
    let server = common::start().await;
    let (mut s, greeting) = Sieve::connect(server.managesieve_addr).await;
    assert!(greeting.contains(&"\"COMPRESS\" \"DEFLATE\"".to_string()), "{greeting:?}");
    // Only after authentication.
    assert_eq!(s.cmd("COMPRESS \"DEFLATE\"").await, ["NO \"authenticate first\""]);
    drop(s);

    let mut z = compressed(server.managesieve_addr).await;
    z.send(b"NOOP \"t1\"\r\n").await;
    assert_eq!(
        z.until("OK", WAIT).await.as_deref(),
        Some("OK (TAG \"t1\") \"Done\"\r\n"),
        "answered without more input"
    );

    // A script larger than one deflate block, up and back down.
    let script: String =
        (0..1500).map(|i| format!("# rule {i}: keep everything\r\n")).chain(["keep;\r\n".into()]).collect();
    z.send(format!("PUTSCRIPT \"big\" {{{}+}}\r\n", script.len()).as_bytes()).await;
    z.send(script.as_bytes()).await;
    z.send(b"\r\n").await;
    assert_eq!(z.until("OK", WAIT).await.as_deref(), Some("OK\r\n"));
    z.send(b"SETACTIVE \"big\"\r\n").await;
    assert_eq!(z.until("OK", WAIT).await.as_deref(), Some("OK\r\n"));
    z.send(b"LISTSCRIPTS\r\n").await;
    assert_eq!(z.until("OK", WAIT).await.as_deref(), Some("\"big\" ACTIVE\r\nOK\r\n"));
    z.send(b"GETSCRIPT \"big\"\r\n").await;
    let got = z.until("\nOK\r\n", WAIT).await.expect("GETSCRIPT answered");
    assert!(got.starts_with(&format!("{{{}}}\r\n# rule 0:", script.len())), "{}", &got[..40]);
    assert!(got.contains("# rule 1499: keep everything\r\nkeep;\r\n"));

    // The capabilities no longer offer COMPRESS; a second one is refused.
    z.send(b"CAPABILITY\r\n").await;
    let caps = z.until("OK", WAIT).await.expect("CAPABILITY answered");
    assert!(!caps.contains("COMPRESS"), "{caps}");
    assert!(caps.contains("\"VERSION\" \"1.0\""), "{caps}");
    z.send(b"COMPRESS \"DEFLATE\"\r\n").await;
    assert_eq!(z.until("NO", WAIT).await.as_deref(), Some("NO \"COMPRESS is already active\"\r\n"));
    z.send(b"LOGOUT\r\n").await;
    assert_eq!(z.until("OK", WAIT).await.as_deref(), Some("OK \"Logout\"\r\n"));
}

#[tokio::test]
async fn unknown_algorithm_and_bad_arguments() {
    let server = common::start().await;
    let mut s = Sieve::login(server.managesieve_addr).await;
    assert_eq!(s.cmd("COMPRESS \"LZ4\"").await, ["NO \"unknown compression algorithm LZ4\""]);
    assert!(s.cmd("COMPRESS").await[0].starts_with("NO \"syntax: COMPRESS"));
    // Still uncompressed.
    assert_eq!(s.cmd("NOOP").await, ["OK \"Done\""]);
}

/// Bytes the client sends right behind the command are compressed already;
/// the server must inflate them rather than read them as text.
#[tokio::test]
async fn compressed_bytes_pipelined_behind_the_command() {
    let server = common::start().await;
    let s = Sieve::login(server.managesieve_addr).await;
    let mut tcp: TcpStream = s.io.into_inner();
    // The client's compressor, started before the server's OK arrived.
    let mut deflate = flate2::Compress::new(flate2::Compression::default(), false);
    let mut noop = Vec::with_capacity(256);
    deflate.compress_vec(b"NOOP \"piped\"\r\n", &mut noop, flate2::FlushCompress::Sync).unwrap();
    let mut burst = b"COMPRESS \"DEFLATE\"\r\n".to_vec();
    burst.extend_from_slice(&noop);
    tcp.write_all(&burst).await.unwrap();
    // The OK in the clear, byte by byte so nothing compressed is consumed.
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    while !line.ends_with(b"\r\n") {
        tcp.read_exact(&mut b).await.unwrap();
        line.push(b[0]);
    }
    assert_eq!(line, b"OK \"DEFLATE active\"\r\n");
    // Zclient inflates the answers; commands keep going through `deflate`,
    // whose stream the server's inflater has been reading since `noop`.
    let mut z = Zclient::new(tcp);
    assert_eq!(z.until("OK", WAIT).await.as_deref(), Some("OK (TAG \"piped\") \"Done\"\r\n"));
    let mut more = Vec::with_capacity(256);
    deflate.compress_vec(b"LISTSCRIPTS\r\n", &mut more, flate2::FlushCompress::Sync).unwrap();
    z.tcp.write_all(&more).await.unwrap();
    assert_eq!(z.until("OK", WAIT).await.as_deref(), Some("OK\r\n"));
}
