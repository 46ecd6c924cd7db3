//! COMPRESS=DEFLATE (RFC 4978), with the client side written directly on
//! `flate2`: every response burst arrives complete without the client sending
//! anything more (the sync flush per burst), including IDLE notifications.

mod common;

use std::time::Duration;

use common::zclient::Zclient;
use common::{append, message, Raw, PASSWORD, USER};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn compressed_session(addr: std::net::SocketAddr) -> Zclient {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    // Greeting, LOGIN and COMPRESS in the clear, byte by byte so nothing
    // compressed is read as plain text.
    for cmd in [format!("L LOGIN {USER} \"{PASSWORD}\"\r\n"), "C COMPRESS DEFLATE\r\n".to_string()] {
        tcp.write_all(cmd.as_bytes()).await.unwrap();
        let tag = &cmd[..2];
        loop {
            line.clear();
            loop {
                tcp.read_exact(&mut b).await.unwrap();
                line.push(b[0]);
                if b[0] == b'\n' {
                    break;
                }
            }
            if line.starts_with(tag.as_bytes()) {
                assert!(line.starts_with(format!("{tag}OK").as_bytes()), "{}", String::from_utf8_lossy(&line));
                break;
            }
        }
    }
    Zclient::new(tcp)
}

#[tokio::test]
async fn a_full_session_through_deflate() {
    let server = common::start().await;
    let mut z = compressed_session(server.addr).await;

    z.send(b"a NOOP\r\n").await;
    assert!(z.until("a OK", Duration::from_secs(2)).await.is_some(), "NOOP answered without more input");

    z.send(b"b SELECT INBOX\r\n").await;
    assert!(z.until("b OK [READ-WRITE]", Duration::from_secs(2)).await.is_some());

    // APPEND a large message through the compressed stream, fetch it back.
    let body: String = (0..4000).map(|i| format!("line {i} of a long message body\r\n")).collect();
    let msg = message("big", &body);
    z.send(format!("c APPEND INBOX {{{}+}}\r\n", msg.len()).as_bytes()).await;
    z.send(&msg).await;
    z.send(b"\r\n").await;
    let r = z.until("c ", Duration::from_secs(5)).await;
    assert!(
        r.as_deref().is_some_and(|r| r.contains("c OK [APPENDUID")),
        "{r:?} {:?}",
        String::from_utf8_lossy(&z.text)
    );
    z.send(b"d FETCH 1 BODY.PEEK[]\r\n").await;
    let got = z.until("d OK", Duration::from_secs(5)).await.expect("FETCH answered");
    assert!(got.contains(&format!("BODY[] {{{}}}\r\n", msg.len())), "literal announced");
    assert!(got.contains("line 3999 of a long message body"), "whole body arrived");

    // RFC 4978 §3: a second COMPRESS is refused.
    z.send(b"e COMPRESS DEFLATE\r\n").await;
    assert!(z.until("e BAD", Duration::from_secs(2)).await.is_some());
}

#[tokio::test]
async fn idle_notifications_arrive_through_deflate_without_more_input() {
    let server = common::start().await;
    let mut z = compressed_session(server.addr).await;
    z.send(b"s SELECT INBOX\r\n").await;
    assert!(z.until("s OK", Duration::from_secs(2)).await.is_some());
    z.send(b"i IDLE\r\n").await;
    assert!(z.until("+ ", Duration::from_secs(2)).await.is_some());

    let mut other = Raw::login(server.addr).await;
    append(&mut other, "INBOX", &message("ping", "x")).await;
    assert!(z.until("* 1 EXISTS", Duration::from_secs(1)).await.is_some(), "the EXISTS was flushed at once");

    z.send(b"DONE\r\n").await;
    assert!(z.until("i OK", Duration::from_secs(2)).await.is_some());
}

#[tokio::test]
async fn compress_before_login_is_refused_and_capability_is_advertised() {
    let server = common::start().await;
    let mut raw = Raw::connect(server.addr).await;
    assert!(raw.greeting.contains("COMPRESS=DEFLATE"), "{}", raw.greeting);
    let r = raw.cmd("COMPRESS DEFLATE").await;
    assert!(r.last().unwrap().starts_with("T BAD"), "{r:?}");
    let r = raw.cmd("NOOP").await;
    assert!(r.last().unwrap().starts_with("T OK"), "still plain: {r:?}");
}
