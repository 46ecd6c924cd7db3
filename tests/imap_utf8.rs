//! UTF8=ACCEPT (RFC 6855): UTF-8 mailbox names and UTF8 APPEND for clients
//! that enable it; modified UTF-7 and plain APPEND for those that do not.

mod common;

use common::Raw;

#[tokio::test]
async fn utf8_accept_names_and_append() {
    let server = common::start().await;
    let mut modern = Raw::login(server.addr).await;
    let r = modern.cmd("ENABLE UTF8=ACCEPT").await;
    assert!(r.iter().any(|l| l == "* ENABLED UTF8=ACCEPT"), "{r:?}");
    let r = modern.cmd("CREATE \"Entwürfe\"").await;
    assert!(r.last().unwrap().starts_with("T OK"), "{r:?}");
    let r = modern.cmd("LIST \"\" \"Entw*\"").await;
    assert!(r.iter().any(|l| l.contains("Entwürfe")), "{r:?}");

    let msg = "From: Jörg <joerg@example.org>\r\nSubject: Grüße aus Köln\r\n\r\nHallo\r\n".as_bytes();
    modern.send(format!("A APPEND \"Entwürfe\" UTF8 (~{{{}}}\r\n", msg.len()).as_bytes()).await;
    assert!(modern.line().await.starts_with("+ "));
    modern.send(msg).await;
    modern.send(b")\r\n").await;
    let r = modern.until_tagged("A").await;
    assert!(r.last().unwrap().starts_with("A OK [APPENDUID"), "{r:?}");
    modern.cmd("SELECT \"Entwürfe\"").await;
    let r = modern.cmd("FETCH 1 (ENVELOPE BODY.PEEK[])").await;
    assert!(r.iter().any(|l| l.contains("Grüße aus Köln")), "{r:?}");

    // A client that did not enable it sees modified UTF-7 and may not use UTF8 APPEND.
    let mut old = Raw::login(server.addr).await;
    let r = old.cmd("LIST \"\" \"Entw*\"").await;
    assert!(r.iter().any(|l| l.contains("Entw&APw-rfe")), "{r:?}");
    old.send(b"B APPEND INBOX UTF8 (~{3}\r\n").await;
    let l = old.line().await;
    if l.starts_with("+ ") {
        old.send(b"abc)\r\n").await;
    }
    let r = if l.starts_with("B ") { vec![l] } else { old.until_tagged("B").await };
    assert!(r.last().unwrap().starts_with("B BAD"), "{r:?}");
    assert!(old.cmd("NOOP").await.last().unwrap().starts_with("T OK"));
}
