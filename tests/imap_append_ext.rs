//! APPEND extensions against a real server: CATENATE (RFC 4469) with IMAP
//! URLs (RFC 5092), REPLACE / UID REPLACE (RFC 8508), APPENDLIMIT (RFC 7889)
//! and PREVIEW (RFC 8970).

mod common;

use common::Raw;
use store::QuotaLimits;

/// `B` in the RFC 4469 examples.
const BOUNDARY: &str = "------------030308070208000400050907";

/// The draft of RFC 4469 Appendix A: multipart/mixed, 1 text/plain,
/// 2 application/x-zip-compressed. Returns (message, header, 1.MIME, 1, 2.MIME, 2).
fn draft() -> (String, String, String, String, String, String) {
    let header = "From: Bob Ar <bar@example.org>\r\nTo: foo@example.net\r\nSubject: About our holiday trip\r\n\
                  MIME-Version: 1.0\r\nContent-Type: multipart/mixed;\r\n              \
                  boundary=\"------------030308070208000400050907\"\r\n\r\n"
        .to_string();
    let mime1 = "Content-Type: text/plain; charset=us-ascii; format=flowed\r\nContent-Transfer-Encoding: 7bit\r\n\r\n";
    let body1 = "Our travel agent has sent the schedule.\r\n\r\nCheers,\r\nBob";
    let mime2 = "Content-Type: application/x-zip-compressed; name=\"trip.zip\"\r\n\
                 Content-Transfer-Encoding: base64\r\n\r\n";
    let body2 = "UEsDBAoAAAAAAAAAIQAAAAAAAAAAAAAAAAAA";
    let msg = format!("{header}--{BOUNDARY}\r\n{mime1}{body1}\r\n--{BOUNDARY}\r\n{mime2}{body2}\r\n--{BOUNDARY}--\r\n");
    (msg, header, mime1.into(), body1.into(), mime2.into(), body2.into())
}

/// A piece of a command: text, or a literal (`{N}`, or `~{N}` when binary).
enum P<'a> {
    T(&'a str),
    L(&'a [u8]),
    L8(&'a [u8]),
}

/// Sends a command with synchronizing literals, waiting for each `+`. If the
/// server answers something else instead (a tagged NO/BAD), returns that.
async fn send(raw: &mut Raw, tag: &str, parts: &[P<'_>]) -> Vec<String> {
    let mut line = format!("{tag} ");
    for p in parts {
        match p {
            P::T(t) => line.push_str(t),
            P::L(b) | P::L8(b) => {
                let tilde = if matches!(p, P::L8(_)) { "~" } else { "" };
                raw.send(format!("{line}{tilde}{{{}}}\r\n", b.len()).as_bytes()).await;
                line.clear();
                let cont = raw.line().await;
                if !cont.starts_with('+') {
                    return vec![cont];
                }
                raw.send(b).await;
            }
        }
    }
    raw.send(format!("{line}\r\n").as_bytes()).await;
    raw.until_tagged(tag).await
}

/// The bytes of the first literal in a response line (as `Raw::line` joins it).
fn literal_of(line: &str) -> Vec<u8> {
    let open = line.find('{').expect("literal");
    let close = open + line[open..].find('}').unwrap();
    let n: usize = line[open + 1..close].parse().unwrap();
    line.as_bytes()[close + 3..close + 3 + n].to_vec()
}

async fn uid_validity(raw: &mut Raw, mailbox: &str) -> u32 {
    let r = raw.cmd(&format!("STATUS {mailbox} (UIDVALIDITY)")).await;
    r[0].rsplit(' ').next().unwrap().trim_end_matches(')').parse().unwrap()
}

async fn messages(raw: &mut Raw, mailbox: &str) -> u32 {
    let r = raw.cmd(&format!("STATUS {mailbox} (MESSAGES)")).await;
    r[0].rsplit(' ').next().unwrap().trim_end_matches(')').parse().unwrap()
}

/// `UID FETCH uid BODY.PEEK[]` of the selected mailbox.
async fn body(raw: &mut Raw, uid: u32) -> Vec<u8> {
    let r = raw.cmd(&format!("UID FETCH {uid} BODY.PEEK[]")).await;
    assert!(r.last().unwrap().starts_with("T OK"), "{r:?}");
    literal_of(&r[0])
}

#[tokio::test]
async fn capabilities_advertised() {
    let server = common::start_with(|c| c.limits.max_literal_size = 123_456).await;
    let mut raw = Raw::login(server.addr).await;
    let caps = raw.cmd("CAPABILITY").await.remove(0);
    for c in ["CATENATE", "URL-PARTIAL", "REPLACE", "PREVIEW", "APPENDLIMIT=123456"] {
        assert!(caps.split(' ').any(|w| w == c), "{c} missing: {caps}");
    }
}

/// RFC 4469 Appendix A examples 1 and 2, with real UIDVALIDITY and UIDs.
#[tokio::test]
async fn rfc4469_examples() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    raw.cmd("CREATE Drafts").await;
    let (msg, header, mime1, body1, mime2, body2) = draft();
    let uid20 = common::append(&mut raw, "Drafts", msg.as_bytes()).await;
    let other = common::message("other", "The message of example 1's last URL.");
    let uid30 = common::append(&mut raw, "Drafts", &other).await;
    let v = uid_validity(&mut raw, "Drafts").await;
    let url = |rest: &str| format!("\"/Drafts;UIDVALIDITY={v}/;UID={rest}\"");
    let sep = format!("\r\n--{BOUNDARY}\r\n");
    let end = format!("\r\n--{BOUNDARY}--\r\n");
    assert_eq!((sep.len(), end.len()), (42, 44));

    // Example 1: replace an attachment without downloading it.
    let r = send(
        &mut raw,
        "A003",
        &[
            P::T(&format!(
                "APPEND Drafts (\\Seen \\Draft $MDNSent) CATENATE (URL {} TEXT ",
                url(&format!("{uid20}/;section=HEADER"))
            )),
            P::L(sep.as_bytes()),
            P::T(&format!(
                " URL {} URL {} TEXT ",
                url(&format!("{uid20}/;section=1.MIME")),
                url(&format!("{uid20}/;section=1"))
            )),
            P::L(sep.as_bytes()),
            P::T(&format!(" URL {} TEXT ", url(&uid30.to_string()))),
            P::L(end.as_bytes()),
            P::T(")"),
        ],
    )
    .await;
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0], format!("A003 OK [APPENDUID {v} 3] APPEND completed"));
    raw.cmd("SELECT Drafts").await;
    let other = String::from_utf8(other).unwrap();
    assert_eq!(
        String::from_utf8(body(&mut raw, 3).await).unwrap(),
        format!("{header}{sep}{mime1}{body1}{sep}{other}{end}")
    );
    let flags = raw.cmd("UID FETCH 3 FLAGS").await;
    assert!(flags[0].contains("\\Seen") && flags[0].contains("\\Draft") && flags[0].contains("$MDNSent"), "{flags:?}");
    // APPEND does not set \Seen on the catenated source (RFC 4469 §3).
    assert!(!raw.cmd(&format!("UID FETCH {uid20} FLAGS")).await[0].contains("\\Seen"));

    // Example 2: new headers and text, the attachment kept by reference.
    let text = format!(
        "From: Bob Ar <bar@example.org>\r\nTo: foo@example.net\r\nSubject: About our holiday trip (updated)\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed;\r\n              boundary=\"{BOUNDARY}\"\r\n\r\n\
         --{BOUNDARY}\r\nContent-Type: text/plain; charset=us-ascii; format=flowed\r\n\
         Content-Transfer-Encoding: 7bit\r\n\r\nOur travel agent has sent the updated schedule.\r\n\r\nCheers,\r\nBob\r\n\
         --{BOUNDARY}\r\n"
    );
    let r = send(
        &mut raw,
        "A004",
        &[
            P::T("APPEND Drafts (\\Seen \\Draft $MDNSent) CATENATE (TEXT "),
            P::L(text.as_bytes()),
            P::T(&format!(
                " URL {} URL {} TEXT ",
                url(&format!("{uid20}/;Section=2.MIME")),
                url(&format!("{uid20}/;Section=2"))
            )),
            P::L(end.as_bytes()),
            P::T(")"),
        ],
    )
    .await;
    assert_eq!(r.last().unwrap(), &format!("A004 OK [APPENDUID {v} 4] APPEND completed"), "{r:?}");
    let new = String::from_utf8(body(&mut raw, 4).await).unwrap();
    assert_eq!(new, format!("{text}{mime2}{body2}{end}"));
    // The result is a real MIME message: part 2 is the attachment.
    let r = raw.cmd("UID FETCH 4 (BODY.PEEK[2] BODY.PEEK[1])").await;
    assert!(r[0].contains(&format!("BODY[2] \"{body2}\"")), "{r:?}");
    assert!(r[0].contains("updated schedule"), "{r:?}");
}

/// A part of one message and the whole of another, by relative URLs
/// against the selected mailbox, plus `;PARTIAL=` (URL-PARTIAL).
#[tokio::test]
async fn catenate_part_and_whole_message() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    let (msg, _, _, body1, _, _) = draft();
    let a = common::append(&mut raw, "INBOX", msg.as_bytes()).await;
    let whole = common::message("whole", "all of it");
    let b = common::append(&mut raw, "INBOX", &whole).await;
    raw.cmd("CREATE Archive").await;
    raw.cmd("SELECT INBOX").await;
    let head = b"Subject: built\r\n\r\n";
    let r = send(
        &mut raw,
        "A",
        &[
            P::T("APPEND Archive CATENATE (TEXT "),
            P::L(head),
            P::T(&format!(
                " URL \";UID={a}/;SECTION=1\" URL \"/;UID={a}/;SECTION=1/;PARTIAL=4.6\" URL \"/INBOX/;UID={b}\")"
            )),
        ],
    )
    .await;
    assert!(r.last().unwrap().starts_with("A OK [APPENDUID "), "{r:?}");
    raw.cmd("SELECT Archive").await;
    let expected = [&head[..], body1.as_bytes(), &body1.as_bytes()[4..10], &whole].concat();
    assert_eq!(body(&mut raw, 1).await, expected);
    // An absolute URL naming the logged-in user works too.
    let r = send(
        &mut raw,
        "A",
        &[P::T(&format!("APPEND Archive CATENATE (URL \"imap://alice@localhost/INBOX/;UID={b}\")"))],
    )
    .await;
    assert!(r.last().unwrap().starts_with("A OK [APPENDUID "), "{r:?}");
    assert_eq!(body(&mut raw, 2).await, whole);
}

/// RFC 4469 §4.1: NO [BADURL url] naming the URL, and nothing is stored.
#[tokio::test]
async fn bad_urls() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    let uid = common::append(&mut raw, "INBOX", &common::message("m", "text")).await;
    let v = uid_validity(&mut raw, "INBOX").await;
    let bad = [
        format!("/INBOX;UIDVALIDITY={v}/;UID={}", uid + 1),
        format!("/INBOX;UIDVALIDITY={}/;UID={uid}", v + 1),
        format!("/INBOX/;UID={uid}/;SECTION=7"),
        format!("/INBOX/;UID={uid}/;SECTION=1.FOO"),
        format!("/Nope/;UID={uid}"),
        format!("imap://bob@localhost/INBOX/;UID={uid}"),
        format!("http://example.org/INBOX/;UID={uid}"),
        format!("/INBOX/;UID={uid}/;URLAUTH=anonymous"),
        // Relative to the selected mailbox, but none is selected.
        format!(";UID={uid}"),
    ];
    for url in &bad {
        let r = send(&mut raw, "A", &[P::T(&format!("APPEND INBOX CATENATE (TEXT \"x\" URL \"{url}\")"))]).await;
        // TEXT needs a literal: the parser says BAD before any URL is looked at.
        assert!(r[0].starts_with("A BAD"), "{r:?}");
        let r = send(
            &mut raw,
            "A",
            &[P::T("APPEND INBOX CATENATE (TEXT "), P::L(b"Subject: x\r\n\r\n"), P::T(&format!(" URL \"{url}\")"))],
        )
        .await;
        assert_eq!(r.len(), 1, "{r:?}");
        assert!(r[0].starts_with(&format!("A NO [BADURL {url}] ")), "{url}: {r:?}");
    }
    assert_eq!(messages(&mut raw, "INBOX").await, 1);
}

/// MULTIAPPEND + CATENATE: one bad URL in the third message, nothing appended.
#[tokio::test]
async fn multiappend_catenate_is_atomic() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    let uid = common::append(&mut raw, "INBOX", &common::message("m", "text")).await;
    let m = common::message("plain", "plain");
    let r = send(
        &mut raw,
        "A",
        &[
            P::T("APPEND INBOX "),
            P::L(&m),
            P::T(&format!(
                " CATENATE (URL \"/INBOX/;UID={uid}\") (\\Flagged) CATENATE (URL \"/INBOX/;UID={}\")",
                uid + 5
            )),
        ],
    )
    .await;
    assert!(r[0].starts_with(&format!("A NO [BADURL /INBOX/;UID={}]", uid + 5)), "{r:?}");
    assert_eq!(messages(&mut raw, "INBOX").await, 1);
    // Without the bad one, all three go in, in order.
    let r = send(
        &mut raw,
        "A",
        &[
            P::T("APPEND INBOX "),
            P::L(&m),
            P::T(&format!(
                " CATENATE (URL \"/INBOX/;UID={uid}\") (\\Flagged) CATENATE (URL \"/INBOX/;UID={uid}/;SECTION=TEXT\")"
            )),
        ],
    )
    .await;
    assert!(r[0].starts_with("A OK [APPENDUID ") && r[0].contains(" 2:4]"), "{r:?}");
    assert_eq!(messages(&mut raw, "INBOX").await, 4);
}

/// CATENATE text parts may be literal8 (RFC 4469 with BINARY, RFC 3516):
/// NUL octets only that way.
#[tokio::test]
async fn catenate_literal8() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    let r = send(
        &mut raw,
        "A",
        &[
            P::T("APPEND INBOX CATENATE (TEXT "),
            P::L(b"Subject: bin\r\n\r\n"),
            P::T(" TEXT "),
            P::L8(b"a\0b\r\n"),
            P::T(")"),
        ],
    )
    .await;
    assert!(r[0].starts_with("A OK [APPENDUID "), "{r:?}");
    raw.cmd("SELECT INBOX").await;
    assert_eq!(body(&mut raw, 1).await, b"Subject: bin\r\n\r\na\0b\r\n");
    let r = send(&mut raw, "A", &[P::T("APPEND INBOX CATENATE (TEXT "), P::L(b"a\0b\r\n"), P::T(")")]).await;
    assert!(r[0].starts_with("A BAD") || r[0].starts_with("A NO"), "{r:?}");
    assert_eq!(messages(&mut raw, "INBOX").await, 1);
}

/// RFC 7889: APPENDLIMIT advertised, in STATUS and LIST-STATUS, and
/// enforced with NO [TOOBIG] for a literal and for a catenated message.
#[tokio::test]
async fn appendlimit_enforced() {
    let server = common::start_with(|c| c.limits.max_literal_size = 2000).await;
    let mut raw = Raw::login(server.addr).await;
    let caps = raw.cmd("CAPABILITY").await.remove(0);
    assert!(caps.split(' ').any(|w| w == "APPENDLIMIT=2000"), "{caps}");
    assert_eq!(raw.cmd("STATUS INBOX (APPENDLIMIT MESSAGES)").await[0], "* STATUS INBOX (APPENDLIMIT 2000 MESSAGES 0)");
    let r = raw.cmd("LIST \"\" INBOX RETURN (STATUS (APPENDLIMIT))").await;
    assert_eq!(r[1], "* STATUS INBOX (APPENDLIMIT 2000)", "{r:?}");

    // A synchronizing literal over the limit: NO [TOOBIG] instead of "+".
    raw.send(b"A APPEND INBOX {2001}\r\n").await;
    let r = raw.line().await;
    assert!(r.starts_with("A NO [TOOBIG]"), "{r:?}");
    let r = raw.tagged("B", "APPEND INBOX ({2001}").await;
    assert!(r[0].starts_with("B BAD [TOOBIG]") || r[0].starts_with("B NO [TOOBIG]"), "{r:?}");
    raw.send(b"C UID REPLACE 1 INBOX {5000}\r\n").await;
    assert!(raw.line().await.starts_with("C NO [TOOBIG]"));
    assert!(raw.cmd("NOOP").await[0].starts_with("T OK"), "the connection goes on");

    // Exactly the limit is fine; two of them catenated are not.
    let mut big = b"Subject: big\r\n\r\n".to_vec();
    big.resize(1998, b'x');
    big.extend_from_slice(b"\r\n");
    let uid = common::append(&mut raw, "INBOX", &big).await;
    let r = send(
        &mut raw,
        "A",
        &[P::T(&format!("APPEND INBOX CATENATE (URL \"/INBOX/;UID={uid}\" TEXT ")), P::L(b"x"), P::T(")")],
    )
    .await;
    assert!(r[0].starts_with("A NO [TOOBIG]"), "{r:?}");
    // Small parts of big messages: the data read is bounded too (4 × the limit).
    let url = format!(" URL \"/INBOX/;UID={uid}/;PARTIAL=0.1\"");
    let r =
        send(&mut raw, "A", &[P::T("APPEND INBOX CATENATE (TEXT "), P::L(b"x"), P::T(&format!("{})", url.repeat(4)))])
            .await;
    assert!(r[0].starts_with("A OK"), "{r:?}");
    let r =
        send(&mut raw, "A", &[P::T("APPEND INBOX CATENATE (TEXT "), P::L(b"x"), P::T(&format!("{})", url.repeat(5)))])
            .await;
    assert!(r[0].starts_with("A NO [LIMIT]"), "{r:?}");
    assert_eq!(messages(&mut raw, "INBOX").await, 2);
}

/// RFC 8508 §3.2 with two sessions on the mailbox: the replacing session
/// gets APPENDUID, EXPUNGE and EXISTS; the other one sees the expunge and
/// the new message.
#[tokio::test]
async fn replace_seen_by_two_sessions() {
    let server = common::start().await;
    let mut a = Raw::login(server.addr).await;
    a.cmd("CREATE Drafts").await;
    for i in 1..=4 {
        common::append(&mut a, "Drafts", &common::message(&format!("d{i}"), "draft")).await;
    }
    let v = uid_validity(&mut a, "Drafts").await;
    let mut b = Raw::login(server.addr).await;
    b.cmd("SELECT Drafts").await;
    a.cmd("SELECT Drafts").await;
    let old_id = a.cmd("FETCH 4 EMAILID").await.remove(0);

    let new = common::message("happy new year", "Just saw the best fireworks show.");
    let r = send(&mut a, "A003", &[P::T("REPLACE 4 Drafts (\\Seen \\Draft) "), P::L(&new)]).await;
    assert_eq!(
        r,
        [
            format!("* OK [APPENDUID {v} 5] Replacement Message ready"),
            "* 4 EXPUNGE".to_string(),
            "* 4 EXISTS".to_string(),
            "* 1 RECENT".to_string(),
            "A003 OK REPLACE completed".to_string(),
        ]
    );
    assert_eq!(body(&mut a, 5).await, new);
    // RFC 8508 §4.6: the replacing message has its own EMAILID.
    let new_id = a.cmd("FETCH 4 EMAILID").await.remove(0);
    assert!(new_id.starts_with("* 4 FETCH (EMAILID (M") && new_id != old_id, "{old_id} {new_id}");
    let r = b.cmd("NOOP").await;
    assert!(r.contains(&"* 4 EXPUNGE".to_string()) && r.contains(&"* 4 EXISTS".to_string()), "{r:?}");
    let r = b.cmd("FETCH 4 (UID FLAGS)").await;
    assert_eq!(r[0], "* 4 FETCH (UID 5 FLAGS (\\Seen \\Draft))");

    // UID REPLACE with QRESYNC: VANISHED instead of EXPUNGE (RFC 8508 §4.5);
    // the target may be another mailbox (Drafts → Sent).
    a.cmd("CREATE Sent").await;
    a.cmd("ENABLE QRESYNC").await;
    let sent = common::message("sent", "final version");
    let sv = uid_validity(&mut a, "Sent").await;
    let r = send(&mut a, "A004", &[P::T("UID REPLACE 2 Sent "), P::L(&sent)]).await;
    assert_eq!(
        r,
        [
            format!("* OK [APPENDUID {sv} 1] Replacement Message ready"),
            "* VANISHED 2".to_string(),
            "A004 OK UID REPLACE completed".to_string(),
        ]
    );
    assert_eq!(messages(&mut a, "Drafts").await, 3);
    let r = b.cmd("NOOP").await;
    assert!(r.contains(&"* 2 EXPUNGE".to_string()), "{r:?}");
    // REPLACE with CATENATE (RFC 8508 §4.2): the new draft reuses the old body.
    let r = send(
        &mut a,
        "A005",
        &[
            P::T("UID REPLACE 5 Drafts CATENATE (TEXT "),
            P::L(b"To: Mitzy <miss.mitzy@example.org>\r\n"),
            P::T(" URL \"/Drafts/;UID=5\")"),
        ],
    )
    .await;
    assert_eq!(r[0], format!("* OK [APPENDUID {v} 6] Replacement Message ready"), "{r:?}");
    assert_eq!(body(&mut a, 6).await, [&b"To: Mitzy <miss.mitzy@example.org>\r\n"[..], &new].concat());
}

/// RFC 8508 §3.4: a failing REPLACE leaves the old message and sends no
/// EXPUNGE; only the net quota change counts.
#[tokio::test]
async fn replace_failures_keep_the_old_message() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    raw.send(b"A REPLACE 1 INBOX {1+}\r\nx\r\n").await;
    assert!(raw.until_tagged("A").await[0].starts_with("A BAD"), "REPLACE needs a selected mailbox");
    for i in 1..=3 {
        common::append(&mut raw, "INBOX", &common::message(&format!("m{i}"), "old")).await;
    }
    raw.cmd("SELECT INBOX").await;
    let new = common::message("new", "new text");
    let no = |r: &[String], code: &str| assert!(r.len() == 1 && r[0].starts_with(&format!("A NO [{code}]")), "{r:?}");
    no(&send(&mut raw, "A", &[P::T("REPLACE 1 Nope "), P::L(&new)]).await, "TRYCREATE");
    no(&send(&mut raw, "A", &[P::T("UID REPLACE 99 INBOX "), P::L(&new)]).await, "NONEXISTENT");
    no(
        &send(&mut raw, "A", &[P::T("REPLACE 1 INBOX CATENATE (URL \"/INBOX/;UID=77\")")]).await,
        "BADURL /INBOX/;UID=77",
    );
    let r = send(&mut raw, "A", &[P::T("REPLACE 9 INBOX "), P::L(&new)]).await;
    assert!(r[0].starts_with("A BAD") || r[0].starts_with("A NO"), "{r:?}");

    // At a 3-message quota, APPEND fails but REPLACE (net 0) works.
    server.store.set_quota(common::USER, QuotaLimits { storage: None, messages: Some(3) }).unwrap();
    let r = send(&mut raw, "A", &[P::T("APPEND INBOX "), P::L(&new)]).await;
    assert!(r[0].starts_with("A NO [OVERQUOTA]"), "{r:?}");
    let r = send(&mut raw, "A", &[P::T("REPLACE 1 INBOX "), P::L(&new)]).await;
    assert_eq!(r.last().unwrap(), "A OK REPLACE completed", "{r:?}");
    // A replacement that does not fit the storage quota: NO, the old one stays.
    server.store.set_quota(common::USER, QuotaLimits { storage: Some(1), messages: None }).unwrap();
    let r = send(&mut raw, "A", &[P::T("REPLACE 1 INBOX "), P::L(&[&new[..], &[b'x'; 3000][..]].concat())]).await;
    no(&r, "OVERQUOTA");
    let r = raw.cmd("FETCH 1:* UID").await;
    assert_eq!(&r[..3], ["* 1 FETCH (UID 2)", "* 2 FETCH (UID 3)", "* 3 FETCH (UID 4)"], "{r:?}");

    // EXAMINE: nothing may be expunged.
    raw.cmd("EXAMINE INBOX").await;
    let r = send(&mut raw, "A", &[P::T("REPLACE 1 INBOX "), P::L(&new)]).await;
    no(&r, "CANNOT");
}

fn preview_of(line: &str) -> String {
    let at = line.find("PREVIEW ").expect("PREVIEW") + 8;
    let rest = &line[at..];
    if let Some(q) = rest.strip_prefix('"') {
        return q[..q.find('"').unwrap()].to_string();
    }
    if rest.starts_with("NIL") {
        return "NIL".into();
    }
    String::from_utf8(literal_of(rest)).unwrap()
}

/// RFC 8970 §3: plain, HTML, multipart, QP/base64, ISO-8859-1, empty.
#[tokio::test]
async fn preview_texts() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    let cases: [(&[u8], &str); 7] = [
        (b"Subject: plain\r\n\r\nHello   Joe,\r\n meet at 3:30?\r\n\r\n> quoted\r\n-- \r\nsig\r\n", "Hello Joe, meet at 3:30?"),
        (
            b"Subject: html\r\nContent-Type: text/html\r\n\r\n<html><head><style>b{}</style></head><body><p>Caf&eacute; &amp; <b>tea</b></p></body></html>\r\n",
            "Café & tea",
        ),
        (
            b"Subject: alt\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nGr=C3=BC=C3=9Fe aus Berlin\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>HTML version</p>\r\n--b--\r\n",
            "Grüße aus Berlin",
        ),
        (
            b"Subject: b64\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\nxZpsaXdrYSB3IGNvbXBvY2ll\r\n",
            "Śliwka w compocie",
        ),
        (b"Subject: latin1\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nna=EFve caf=E9\r\n", "naïve café"),
        (b"Subject: empty\r\n\r\n", ""),
        (
            b"Subject: attachment only\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--b--\r\n",
            "",
        ),
    ];
    for (m, _) in &cases {
        common::append(&mut raw, "INBOX", m).await;
    }
    raw.cmd("SELECT INBOX").await;
    let r = raw.cmd("FETCH 1:* (PREVIEW)").await;
    assert_eq!(r.len(), cases.len() + 1, "{r:?}");
    for (i, (_, want)) in cases.iter().enumerate() {
        assert!(r[i].starts_with(&format!("* {} FETCH (PREVIEW ", i + 1)), "{r:?}");
        assert_eq!(preview_of(&r[i]), *want, "message {}", i + 1);
    }
    // Never NIL without LAZY (§3.2); an empty preview is "".
    assert_eq!(r[5], "* 6 FETCH (PREVIEW \"\")");
    let r = raw.cmd("UID FETCH 1 (PREVIEW (LAZY) RFC822.SIZE)").await;
    assert!(r[0].starts_with("* 1 FETCH (UID 1 PREVIEW \"Hello Joe, meet at 3:30?\" RFC822.SIZE "), "{r:?}");
    // At most 256 characters (§3.3).
    let long = format!("Subject: long\r\n\r\n{}\r\n", "ünïcödé ".repeat(200));
    common::append(&mut raw, "INBOX", long.as_bytes()).await;
    let r = raw.cmd("FETCH 8 PREVIEW").await;
    let p = preview_of(r.iter().find(|l| l.starts_with("* 8 FETCH")).unwrap());
    assert!(p.chars().count() <= 256 && p.starts_with("ünïcödé ünïcödé"), "{r:?}");
}

/// The preview is computed at delivery and stored: FETCH PREVIEW works with
/// the message files gone (it reads no message), also on a COPY; a message
/// stored without one (from before PREVIEW) is NIL with LAZY, computed on
/// the first FETCH PREVIEW and then stored.
#[tokio::test]
async fn preview_stored_at_delivery() {
    let server = common::start().await;
    let mut lmtp = common::Lmtp::hello(server.lmtp_addr).await;
    let r = lmtp.deliver("bob@example.org", &["alice@example.test"], &common::message("hi", "Delivered text")).await;
    assert!(r[0].starts_with("250 "), "{r:?}");
    let id = server.store.account_id(common::USER).unwrap().unwrap();
    let acc = server.store.account(id).unwrap();
    let inbox = acc.mailbox("INBOX").await.unwrap().unwrap();
    let recs = acc.records(inbox.id, vec![1]).await.unwrap();
    assert_eq!(recs[0].meta.preview.as_deref(), Some("Delivered text"));

    // A message as stored before PREVIEW existed: no preview column value.
    let old = common::message("old", "Old message text");
    let mut meta = postfach::imap::fetch::compute_meta(&old);
    meta.preview = None;
    let blob = server.store.blobs().write(&old).unwrap();
    let m = store::NewMessage {
        blob,
        size: old.len() as u64,
        prefix: Vec::new(),
        flags: store::Flags::default(),
        internal_date: 0,
        internal_date_zone: 0,
        meta,
    };
    acc.append(inbox.id, vec![m]).await.unwrap();

    let mut raw = Raw::login(server.addr).await;
    raw.cmd("CREATE Copies").await;
    raw.cmd("SELECT INBOX").await;
    raw.cmd("COPY 1 Copies").await;
    let r = raw.cmd("FETCH 1:2 (PREVIEW (LAZY))").await;
    assert_eq!(r[..2], ["* 1 FETCH (PREVIEW \"Delivered text\")", "* 2 FETCH (PREVIEW NIL)"]);
    let r = raw.cmd("FETCH 2 (PREVIEW)").await;
    assert_eq!(r[0], "* 2 FETCH (PREVIEW \"Old message text\")");
    let recs = acc.records(inbox.id, vec![2]).await.unwrap();
    assert_eq!(recs[0].meta.preview.as_deref(), Some("Old message text"), "stored after the first FETCH");
    let r = raw.cmd("FETCH 2 (PREVIEW (LAZY))").await;
    assert_eq!(r[0], "* 2 FETCH (PREVIEW \"Old message text\")");

    // Remove every message file: PREVIEW still answers, BODY[] cannot.
    remove_files(&server.dir.path().join("blobs"));
    let r = raw.cmd("FETCH 1:2 (PREVIEW)").await;
    assert_eq!(r[..2], ["* 1 FETCH (PREVIEW \"Delivered text\")", "* 2 FETCH (PREVIEW \"Old message text\")"]);
    assert!(!raw.cmd("FETCH 1 BODY.PEEK[]").await.last().unwrap().starts_with("T OK"));
    raw.cmd("SELECT Copies").await;
    assert_eq!(raw.cmd("FETCH 1 PREVIEW").await[0], "* 1 FETCH (PREVIEW \"Delivered text\")");
}

fn remove_files(dir: &std::path::Path) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            remove_files(&p);
        } else {
            std::fs::remove_file(&p).unwrap();
        }
    }
}
