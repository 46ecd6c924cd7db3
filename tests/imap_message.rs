//! Message commands: APPEND (with MULTIAPPEND and UIDPLUS), FETCH of every
//! attribute, STORE, COPY, MOVE, EXPUNGE, UID EXPUNGE (RFC 9051 §6.3.12,
//! §6.4; RFC 3502, 3516, 4315, 6851).

mod common;

use futures::TryStreamExt;

use common::{append, message, Raw};

fn has(lines: &[String], needle: &str) -> bool {
    lines.iter().any(|l| l.contains(needle))
}

fn tagged(lines: &[String]) -> &str {
    lines.last().expect("a tagged line")
}

#[track_caller]
fn assert_ok(lines: &[String]) {
    assert!(tagged(lines).starts_with("T OK"), "{lines:?}");
}

#[track_caller]
fn assert_no(lines: &[String]) {
    assert!(tagged(lines).starts_with("T NO"), "{lines:?}");
}

/// The value of a FETCH item (`BODY[TEXT]`, `RFC822`, …) in a response line:
/// a quoted string, a literal (inlined by `Raw`), or `None` for NIL.
#[track_caller]
fn item(line: &str, name: &str) -> Option<Vec<u8>> {
    let key = format!("{name} ");
    let start = line.find(&key).unwrap_or_else(|| panic!("no {name} in {line}")) + key.len();
    let rest = &line.as_bytes()[start..];
    if rest.starts_with(b"NIL") {
        return None;
    }
    if rest[0] == b'"' {
        let mut out = Vec::new();
        let mut i = 1;
        while rest[i] != b'"' {
            if rest[i] == b'\\' {
                i += 1;
            }
            out.push(rest[i]);
            i += 1;
        }
        return Some(out);
    }
    let rest = rest.strip_prefix(b"~").unwrap_or(rest);
    assert_eq!(rest[0], b'{', "not a string: {}", String::from_utf8_lossy(rest));
    let close = rest.iter().position(|&b| b == b'}').unwrap();
    let n: usize = std::str::from_utf8(&rest[1..close]).unwrap().parse().unwrap();
    let body = &rest[close + 3..];
    Some(body[..n].to_vec())
}

/// The FETCH response line of message `seq`.
#[track_caller]
fn fetch_line(lines: &[String], seq: u32) -> &str {
    let p = format!("* {seq} FETCH (");
    lines.iter().find(|l| l.starts_with(&p)).unwrap_or_else(|| panic!("no FETCH for {seq}: {lines:?}"))
}

/// `[CODE a b c]` → its arguments.
fn code_args(line: &str, code: &str) -> Vec<String> {
    let open = format!("[{code} ");
    let start = line.find(&open).unwrap_or_else(|| panic!("no {code} in {line}")) + open.len();
    let end = start + line[start..].find(']').unwrap();
    line[start..end].split(' ').map(String::from).collect()
}

/// Sends a command whose last argument is a literal (LITERAL+).
async fn cmd_with_literal(raw: &mut Raw, prefix: &str, lit: &[u8]) -> Vec<String> {
    raw.send(format!("T {prefix} {{{}+}}\r\n", lit.len()).as_bytes()).await;
    raw.send(lit).await;
    raw.send(b"\r\n").await;
    raw.until_tagged("T").await
}

async fn fill_inbox(raw: &mut Raw, n: usize) -> Vec<u32> {
    let mut uids = Vec::new();
    for i in 1..=n {
        uids.push(append(raw, "INBOX", &message(&format!("msg{i}"), &format!("body {i}"))).await);
    }
    uids
}

async fn uidvalidity(raw: &mut Raw, mailbox: &str) -> String {
    let r = raw.cmd(&format!("STATUS {mailbox} (UIDVALIDITY)")).await;
    let l = &r[0];
    l[l.find("UIDVALIDITY ").unwrap() + 12..l.rfind(')').unwrap()].to_string()
}

const MULTIPART: &str = "From: Carol <carol@example.com>\r\n\
To: Alice <alice@example.org>\r\n\
Subject: With attachment\r\n\
Date: Tue, 5 Mar 2024 09:00:00 +0000\r\n\
Message-ID: <mp@example.com>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"XYZ\"\r\n\
\r\n\
preamble\r\n\
--XYZ\r\n\
Content-Type: text/plain; charset=us-ascii\r\n\
\r\n\
Hello Alice, see the attachment.\r\n\
--XYZ\r\n\
Content-Type: application/octet-stream; name=\"hello.bin\"\r\n\
Content-Transfer-Encoding: base64\r\n\
Content-Disposition: attachment; filename=\"hello.bin\"\r\n\
\r\n\
aGVsbG8gYmluYXJ5IHdvcmxkDQo=\r\n\
--XYZ--\r\n";

// ----- APPEND -----

#[tokio::test]
async fn append_with_flags_and_internal_date_round_trips() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    let msg = message("dated", "hello");
    let r = cmd_with_literal(&mut raw, "APPEND INBOX (\\Seen $Forwarded) \"17-Jul-1996 02:44:25 -0700\"", &msg).await;
    assert!(tagged(&r).starts_with("T OK [APPENDUID "), "{r:?}");
    let args = code_args(tagged(&r), "APPENDUID");
    assert_eq!(args[0], uidvalidity(&mut raw, "INBOX").await);
    assert_eq!(args[1], "1");

    raw.cmd("SELECT INBOX").await;
    let r = raw.cmd("FETCH 1 (FLAGS INTERNALDATE RFC822.SIZE UID)").await;
    assert_ok(&r);
    let l = fetch_line(&r, 1);
    assert!(l.contains("INTERNALDATE \"17-Jul-1996 02:44:25 -0700\""), "{l}");
    assert!(l.contains(&format!("RFC822.SIZE {}", msg.len())), "{l}");
    assert!(l.contains("\\Seen") && l.contains("$Forwarded"), "{l}");
    assert!(l.contains("UID 1"), "{l}");

    // The independent parser reads the date back.
    let mut client = common::client(server.addr).await;
    client.select("INBOX").await.unwrap();
    let f: Vec<_> = client.fetch("1", "(INTERNALDATE RFC822.SIZE)").await.unwrap().try_collect().await.unwrap();
    assert_eq!(f[0].internal_date().unwrap().to_rfc3339(), "1996-07-17T02:44:25-07:00");
    assert_eq!(f[0].size, Some(msg.len() as u32));
    client
        .append("INBOX", Some("(\\Flagged)"), Some("\"01-Jan-2020 00:00:00 +0000\""), message("c", "x"))
        .await
        .unwrap();
}

#[tokio::test]
async fn append_to_missing_mailbox_says_trycreate() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    let r = cmd_with_literal(&mut raw, "APPEND Nowhere", &message("x", "y")).await;
    assert!(tagged(&r).starts_with("T NO [TRYCREATE]"), "{r:?}");
}

#[tokio::test]
async fn multiappend_appends_all_with_one_appenduid() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    let a = message("first", "one");
    let b = message("second", "two");
    raw.send(format!("T APPEND INBOX (\\Seen) {{{}+}}\r\n", a.len()).as_bytes()).await;
    raw.send(&a).await;
    raw.send(format!(" (\\Flagged) {{{}+}}\r\n", b.len()).as_bytes()).await;
    raw.send(&b).await;
    raw.send(b"\r\n").await;
    let r = raw.until_tagged("T").await;
    assert!(tagged(&r).starts_with("T OK [APPENDUID "), "{r:?}");
    assert_eq!(code_args(tagged(&r), "APPENDUID")[1], "1:2", "{r:?}");
    raw.cmd("SELECT INBOX").await;
    let r = raw.cmd("FETCH 1:2 (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])").await;
    assert!(fetch_line(&r, 1).contains("\\Seen") && fetch_line(&r, 1).contains("first"), "{r:?}");
    assert!(fetch_line(&r, 2).contains("\\Flagged") && fetch_line(&r, 2).contains("second"), "{r:?}");
}

#[tokio::test]
async fn large_append_is_spooled_and_round_trips_byte_exact() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    let mut msg = message("big", "").to_vec();
    msg.truncate(msg.len() - 2);
    let mut i = 0u64;
    while msg.len() < 1024 * 1024 {
        msg.extend_from_slice(format!("line {i:08} abcdefghijklmnopqrstuvwxyz0123456789\r\n").as_bytes());
        i += 1;
    }
    let uid = append(&mut raw, "INBOX", &msg).await;
    raw.cmd("SELECT INBOX").await;
    let r = raw.cmd(&format!("UID FETCH {uid} (RFC822.SIZE BODY.PEEK[])")).await;
    assert_ok(&r);
    let l = fetch_line(&r, 1);
    assert!(l.contains(&format!("RFC822.SIZE {}", msg.len())), "size");
    assert!(item(l, "BODY[]").unwrap() == msg, "BODY[] differs from the appended bytes");

    let mut client = common::client(server.addr).await;
    client.select("INBOX").await.unwrap();
    let f: Vec<_> = client.fetch("1", "BODY.PEEK[]").await.unwrap().try_collect().await.unwrap();
    assert!(f[0].body().unwrap() == msg.as_slice());
}

// ----- FETCH -----

#[tokio::test]
async fn fetch_envelope_and_simple_attributes() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    let msg = message("Hello there", "body text");
    append(&mut raw, "INBOX", &msg).await;
    raw.cmd("SELECT INBOX").await;
    let r = raw.cmd("FETCH 1 (UID FLAGS RFC822.SIZE ENVELOPE)").await;
    assert_ok(&r);
    let l = fetch_line(&r, 1);
    assert!(l.contains("UID 1"), "{l}");
    assert!(l.contains("FLAGS (\\Recent)"), "{l}");
    assert!(l.contains(&format!("RFC822.SIZE {}", msg.len())), "{l}");
    // RFC 9051 §7.5.2: date, subject, from, sender, reply-to, to, cc, bcc,
    // in-reply-to, message-id; sender and reply-to default to from.
    let env = "ENVELOPE (\"Mon, 7 Feb 1994 21:52:25 -0800\" \"Hello there\" \
               ((\"Bob\" NIL \"bob\" \"example.org\")) ((\"Bob\" NIL \"bob\" \"example.org\")) \
               ((\"Bob\" NIL \"bob\" \"example.org\")) ((\"Alice\" NIL \"alice\" \"example.org\")) \
               NIL NIL NIL \"<Hello there@example.org>\")";
    assert!(l.contains(env), "{l}\nexpected {env}");

    let mut client = common::client(server.addr).await;
    client.select("INBOX").await.unwrap();
    let f: Vec<_> = client.fetch("1", "(ENVELOPE UID)").await.unwrap().try_collect().await.unwrap();
    let e = f[0].envelope().expect("envelope");
    assert_eq!(e.subject.as_deref(), Some(&b"Hello there"[..]));
    let from = e.from.as_ref().unwrap();
    assert_eq!(from[0].mailbox.as_deref(), Some(&b"bob"[..]));
    assert_eq!(from[0].host.as_deref(), Some(&b"example.org"[..]));
    assert_eq!(f[0].uid, Some(1));
}

/// A FETCH of row metadata over many messages (encoded straight from the
/// store's rows) answers every message once, in order, with what a FETCH
/// that goes through the encoder (EMAILID added) answers; messages with
/// keywords or `\Recent` carry them, a keyword this session was not told
/// is announced first (RFC 9051 §7.3.5), and CHANGEDSINCE keeps only the
/// messages changed since (RFC 7162 §3.1.4).
#[tokio::test]
async fn fetch_of_row_metadata_over_many_messages() {
    let server = common::start().await;
    let mut a = Raw::login(server.addr).await;
    let mut b = Raw::login(server.addr).await;
    fill_inbox(&mut a, 30).await;
    append(&mut a, "INBOX", MULTIPART.as_bytes()).await;
    a.cmd("SELECT INBOX").await;
    a.cmd("STORE 3,7 +FLAGS ($Work)").await;
    a.cmd("STORE 5 +FLAGS (\\Seen \\Flagged)").await;
    a.cmd("STORE 9 +FLAGS (\\Deleted)").await;
    a.cmd("UID EXPUNGE 9").await;
    a.cmd("CLOSE").await;
    append(&mut a, "INBOX", &message("late", "x")).await;
    // b's SELECT takes \Recent of the last message (IMAP4rev1) and knows $Work.
    let r = b.cmd("SELECT INBOX").await;
    assert!(has(&r, "* 31 EXISTS") && has(&r, "* 1 RECENT"), "{r:?}");
    a.cmd("SELECT INBOX").await;
    a.cmd("STORE 10 +FLAGS ($Fresh)").await;

    let items = "UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE";
    let r = b.cmd(&format!("FETCH 1:* ({items})")).await;
    assert_ok(&r);
    // Unsolicited FLAGS updates may come too: the answers carry ENVELOPE.
    let answers = |lines: &[String]| -> Vec<(u32, String)> {
        lines
            .iter()
            .filter(|l| l.starts_with("* ") && l.contains(" FETCH (") && l.contains("ENVELOPE ("))
            .map(|l| (l[2..].split(' ').next().unwrap().parse().unwrap(), l.clone()))
            .collect()
    };
    let fast = answers(&r);
    assert_eq!(fast.iter().map(|a| a.0).collect::<Vec<_>>(), (1..=31).collect::<Vec<_>>(), "{r:?}");
    let line = |seq: u32| fast[seq as usize - 1].1.as_str();
    assert!(line(3).contains("FLAGS ($Work)") && line(7).contains("FLAGS ($Work)"), "{r:?}");
    assert!(line(5).contains("FLAGS (\\Seen \\Flagged)"), "{r:?}");
    assert!(line(10).contains("FLAGS ($Fresh)"), "{r:?}");
    assert!(line(31).contains("FLAGS (\\Recent)") && line(1).contains("FLAGS ()"), "{r:?}");
    assert!(line(30).contains("BODYSTRUCTURE ((") && line(29).contains("BODYSTRUCTURE (\"text\""), "{r:?}");
    let announced = r.iter().position(|l| l.starts_with("* FLAGS (") && l.contains("$Fresh")).expect("FLAGS announced");
    let used = r.iter().position(|l| l.contains(" FETCH (") && l.contains("$Fresh")).expect("$Fresh shown");
    assert!(announced < used, "{r:?}");

    // The same answer through the encoder (EMAILID needs a record).
    let slow = b.cmd(&format!("FETCH 1:* ({items} EMAILID)")).await;
    assert_ok(&slow);
    let slow = answers(&slow);
    assert_eq!(slow.len(), 31);
    for (seq, mut l) in slow {
        let at = l.find(" EMAILID (").unwrap();
        let end = at + l[at..].find(')').unwrap() + 1;
        l.replace_range(at..end, "");
        assert_eq!(l, line(seq), "message {seq}");
    }

    // CHANGEDSINCE: only what changed after the MODSEQ of message 20.
    let r = b.cmd("FETCH 20 (MODSEQ)").await;
    let l = fetch_line(&r, 20);
    let modseq: u64 = l[l.find("MODSEQ (").unwrap() + 8..l.rfind("))").unwrap()].parse().unwrap();
    a.cmd("STORE 4,25 +FLAGS (\\Answered)").await;
    let r = b.cmd(&format!("FETCH 1:* (ENVELOPE) (CHANGEDSINCE {modseq})")).await;
    assert_ok(&r);
    let changed: Vec<&String> = r.iter().filter(|l| l.contains(" FETCH (") && l.contains("ENVELOPE (")).collect();
    assert!(changed.iter().all(|l| l.contains("MODSEQ (")), "{r:?}");
    let changed: Vec<&str> = changed.iter().map(|l| &l[..l.find(" FETCH").unwrap()]).collect();
    assert!(changed.contains(&"* 4") && changed.contains(&"* 25") && !changed.contains(&"* 1"), "{r:?}");
}

#[tokio::test]
async fn fetch_bodystructure_of_multipart() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    append(&mut raw, "INBOX", MULTIPART.as_bytes()).await;
    append(&mut raw, "INBOX", &message("plain", "simple")).await;
    raw.cmd("SELECT INBOX").await;
    let r = raw.cmd("FETCH 1:2 (BODYSTRUCTURE BODY)").await;
    assert_ok(&r);
    let l = fetch_line(&r, 1).to_ascii_uppercase();
    assert!(l.contains("BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 32 "), "{l}");
    assert!(l.contains("(\"APPLICATION\" \"OCTET-STREAM\" (\"NAME\" \"HELLO.BIN\") NIL NIL \"BASE64\" 28"), "{l}");
    assert!(l.contains("\"MIXED\" (\"BOUNDARY\" \"XYZ\")"), "{l}");
    assert!(l.contains("(\"ATTACHMENT\" (\"FILENAME\" \"HELLO.BIN\"))"), "{l}");
    // BODY is the non-extensible form: no boundary parameter.
    let body = &l[l.find(" BODY (").unwrap()..];
    assert!(body.contains("\"MIXED\")"), "{body}");
    assert!(!body.contains("BOUNDARY"), "{body}");
    let l2 = fetch_line(&r, 2).to_ascii_uppercase();
    assert!(l2.contains("BODYSTRUCTURE (\"TEXT\" \"PLAIN\""), "{l2}");

    let mut client = common::client(server.addr).await;
    client.select("INBOX").await.unwrap();
    let f: Vec<_> = client.fetch("1", "BODYSTRUCTURE").await.unwrap().try_collect().await.unwrap();
    match f[0].bodystructure().expect("bodystructure") {
        async_imap::imap_proto::BodyStructure::Multipart { bodies, common, .. } => {
            assert_eq!(bodies.len(), 2);
            assert!(common.ty.subtype.eq_ignore_ascii_case("mixed"));
        }
        other => panic!("not multipart: {other:?}"),
    }
}

#[tokio::test]
async fn fetch_body_sections() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    append(&mut raw, "INBOX", MULTIPART.as_bytes()).await;
    raw.cmd("SELECT INBOX").await;
    let (header, text) = MULTIPART.split_at(MULTIPART.find("\r\n\r\n").unwrap() + 4);

    let r = raw.cmd("FETCH 1 BODY.PEEK[HEADER]").await;
    assert_eq!(item(fetch_line(&r, 1), "BODY[HEADER]").unwrap(), header.as_bytes());

    let r = raw.cmd("FETCH 1 BODY.PEEK[TEXT]").await;
    assert_eq!(item(fetch_line(&r, 1), "BODY[TEXT]").unwrap(), text.as_bytes());

    let r = raw.cmd("FETCH 1 BODY.PEEK[]").await;
    assert_eq!(item(fetch_line(&r, 1), "BODY[]").unwrap(), MULTIPART.as_bytes());

    let r = raw.cmd("FETCH 1 BODY.PEEK[HEADER.FIELDS (Subject From)]").await;
    let l = fetch_line(&r, 1);
    let fields = String::from_utf8(item(l, "]").unwrap()).unwrap();
    assert!(l.to_ascii_uppercase().contains("BODY[HEADER.FIELDS (SUBJECT FROM)]"), "{l}");
    assert!(fields.contains("From: Carol <carol@example.com>\r\n"), "{fields:?}");
    assert!(fields.contains("Subject: With attachment\r\n"), "{fields:?}");
    assert!(!fields.contains("To:") && !fields.contains("Date:"), "{fields:?}");
    assert!(fields.ends_with("\r\n\r\n"), "{fields:?}");

    let r = raw.cmd("FETCH 1 BODY.PEEK[HEADER.FIELDS.NOT (Subject)]").await;
    let fields = String::from_utf8(item(fetch_line(&r, 1), "]").unwrap()).unwrap();
    assert!(!fields.contains("Subject:"), "{fields:?}");
    assert!(fields.contains("From: Carol") && fields.contains("Content-Type: multipart/mixed"), "{fields:?}");

    let r = raw.cmd("FETCH 1 BODY.PEEK[1]").await;
    assert_eq!(item(fetch_line(&r, 1), "BODY[1]").unwrap(), b"Hello Alice, see the attachment.");

    let r = raw.cmd("FETCH 1 BODY.PEEK[1.MIME]").await;
    assert_eq!(item(fetch_line(&r, 1), "BODY[1.MIME]").unwrap(), b"Content-Type: text/plain; charset=us-ascii\r\n\r\n");

    let r = raw.cmd("FETCH 1 BODY.PEEK[2]").await;
    assert_eq!(item(fetch_line(&r, 1), "BODY[2]").unwrap(), b"aGVsbG8gYmluYXJ5IHdvcmxkDQo=");

    // Partial fetch: answered with the origin only (RFC 9051 §7.5.2).
    let r = raw.cmd("FETCH 1 BODY.PEEK[]<0.10>").await;
    let l = fetch_line(&r, 1);
    assert!(l.contains("BODY[]<0> "), "{l}");
    assert_eq!(item(l, "BODY[]<0>").unwrap(), b"From: Caro");
    let r = raw.cmd("FETCH 1 BODY.PEEK[TEXT]<2.5>").await;
    assert_eq!(item(fetch_line(&r, 1), "BODY[TEXT]<2>").unwrap(), b"eambl");
    // Starting beyond the end: empty string.
    let r = raw.cmd("FETCH 1 BODY.PEEK[]<100000.10>").await;
    assert_eq!(item(fetch_line(&r, 1), "BODY[]<100000>").unwrap(), b"");

    // None of these set \Seen.
    let r = raw.cmd("FETCH 1 FLAGS").await;
    assert!(fetch_line(&r, 1).contains("FLAGS (\\Recent)"), "{r:?}");
}

#[tokio::test]
async fn fetch_binary_decodes_the_transfer_encoding() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    append(&mut raw, "INBOX", MULTIPART.as_bytes()).await;
    raw.cmd("SELECT INBOX").await;
    let r = raw.cmd("FETCH 1 (BINARY.PEEK[2] BINARY.SIZE[2])").await;
    assert_ok(&r);
    let l = fetch_line(&r, 1);
    assert_eq!(item(l, "BINARY[2]").unwrap(), b"hello binary world\r\n");
    assert!(l.contains("BINARY.SIZE[2] 20"), "{l}");
    let r = raw.cmd("FETCH 1 BINARY.PEEK[1]").await;
    assert_eq!(item(fetch_line(&r, 1), "BINARY[1]").unwrap(), b"Hello Alice, see the attachment.");
    // BINARY without PEEK sets \Seen.
    let r = raw.cmd("FETCH 1 BINARY[2]<6.6>").await;
    let l = fetch_line(&r, 1);
    assert_eq!(item(l, "BINARY[2]<6>").unwrap(), b"binary");
    assert!(l.contains("\\Seen"), "{l}");
}

#[tokio::test]
async fn fetch_rfc822_items() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    let msg = message("rfc822", "the text");
    append(&mut raw, "INBOX", &msg).await;
    append(&mut raw, "INBOX", &msg).await;
    raw.cmd("SELECT INBOX").await;
    let split = msg.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;

    // RFC822.HEADER is BODY.PEEK[HEADER]: no \Seen.
    let r = raw.cmd("FETCH 1 RFC822.HEADER").await;
    let l = fetch_line(&r, 1);
    assert_eq!(item(l, "RFC822.HEADER").unwrap(), &msg[..split]);
    assert!(!l.contains("\\Seen"), "{l}");

    // RFC822.TEXT is BODY[TEXT]: sets \Seen.
    let r = raw.cmd("FETCH 1 RFC822.TEXT").await;
    let l = fetch_line(&r, 1);
    assert_eq!(item(l, "RFC822.TEXT").unwrap(), &msg[split..]);
    assert!(l.contains("FLAGS (\\Seen \\Recent)"), "{l}");

    // RFC822 is BODY[]: sets \Seen.
    let r = raw.cmd("FETCH 2 RFC822").await;
    let l = fetch_line(&r, 2);
    assert_eq!(item(l, "RFC822").unwrap(), msg);
    assert!(l.contains("FLAGS (\\Seen \\Recent)"), "{l}");
}

#[tokio::test]
async fn fetch_macros_all_fast_full() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    append(&mut raw, "INBOX", &message("macro", "x")).await;
    raw.cmd("SELECT INBOX").await;
    let r = raw.cmd("FETCH 1 FAST").await;
    let l = fetch_line(&r, 1);
    for a in ["FLAGS ", "INTERNALDATE ", "RFC822.SIZE "] {
        assert!(l.contains(a), "FAST lacks {a}: {l}");
    }
    assert!(!l.contains("ENVELOPE") && !l.contains("BODY"), "{l}");

    let r = raw.cmd("FETCH 1 ALL").await;
    let l = fetch_line(&r, 1);
    for a in ["FLAGS ", "INTERNALDATE ", "RFC822.SIZE ", "ENVELOPE ("] {
        assert!(l.contains(a), "ALL lacks {a}: {l}");
    }
    assert!(!l.contains("BODY"), "{l}");

    let r = raw.cmd("FETCH 1 FULL").await;
    let l = fetch_line(&r, 1);
    for a in ["FLAGS ", "INTERNALDATE ", "RFC822.SIZE ", "ENVELOPE (", "BODY ("] {
        assert!(l.contains(a), "FULL lacks {a}: {l}");
    }
    assert!(!l.contains("BODYSTRUCTURE"), "{l}");
    // The macros do not set \Seen.
    let r = raw.cmd("FETCH 1 FLAGS").await;
    assert!(fetch_line(&r, 1).contains("FLAGS (\\Recent)"), "{r:?}");
}

#[tokio::test]
async fn body_fetch_without_peek_sets_seen_and_reports_flags() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    let mut other = Raw::login(server.addr).await;
    fill_inbox(&mut raw, 2).await;
    raw.cmd("SELECT INBOX").await;
    other.cmd("SELECT INBOX").await;
    let r = raw.cmd("FETCH 1 BODY.PEEK[TEXT]").await;
    assert!(!fetch_line(&r, 1).contains("FLAGS"), "{r:?}");
    let r = raw.cmd("FETCH 1 BODY[TEXT]").await;
    assert!(fetch_line(&r, 1).contains("FLAGS (\\Seen \\Recent)"), "{r:?}");
    // Already seen: FLAGS is not repeated unasked.
    let r = raw.cmd("FETCH 1 BODY[TEXT]").await;
    assert!(!fetch_line(&r, 1).contains("FLAGS"), "{r:?}");
    let r = raw.cmd("FETCH 1:2 FLAGS").await;
    assert!(fetch_line(&r, 1).contains("\\Seen") && !fetch_line(&r, 2).contains("\\Seen"), "{r:?}");
    // Other sessions hear about it.
    let r = other.cmd("NOOP").await;
    assert!(has(&r, "* 1 FETCH (") && has(&r, "\\Seen"), "{r:?}");

    let mut client = common::client(server.addr).await;
    client.select("INBOX").await.unwrap();
    let f: Vec<_> = client.fetch("2", "BODY[]").await.unwrap().try_collect().await.unwrap();
    assert!(f[0].body().is_some());
    let f: Vec<_> = client.fetch("2", "FLAGS").await.unwrap().try_collect().await.unwrap();
    assert!(f[0].flags().any(|f| f == async_imap::types::Flag::Seen));
}

#[tokio::test]
async fn uid_fetch_always_includes_uid() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    let uids = fill_inbox(&mut raw, 3).await;
    raw.cmd("SELECT INBOX").await;
    let r = raw.cmd("UID FETCH 1:* FLAGS").await;
    assert_ok(&r);
    for (i, uid) in uids.iter().enumerate() {
        assert!(fetch_line(&r, i as u32 + 1).contains(&format!("UID {uid}")), "{r:?}");
    }
    // UID range beyond the largest UID: `n:*` still returns the last message.
    let r = raw.cmd("UID FETCH 999:* FLAGS").await;
    assert_ok(&r);
    assert!(fetch_line(&r, 3).contains(&format!("UID {}", uids[2])), "{r:?}");
    // Nonexistent UIDs are silently ignored.
    let r = raw.cmd("UID FETCH 500 FLAGS").await;
    assert_ok(&r);
    assert_eq!(r.len(), 1, "{r:?}");

    let mut client = common::client(server.addr).await;
    client.select("INBOX").await.unwrap();
    let f: Vec<_> = client.uid_fetch("1:*", "FLAGS").await.unwrap().try_collect().await.unwrap();
    assert_eq!(f.iter().map(|f| f.uid.unwrap()).collect::<Vec<_>>(), uids);
}

#[tokio::test]
async fn fetch_on_empty_mailbox() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    raw.cmd("SELECT INBOX").await;
    // RFC 9051 §9 seq-number: "*" in an empty mailbox is beyond EXISTS: BAD.
    let r = raw.cmd("FETCH 1:* (FLAGS)").await;
    assert!(r.last().unwrap().starts_with("T BAD"), "{r:?}");
    // UID ranges name no message here, which is not an error (§6.4.8).
    let r = raw.cmd("UID FETCH 1:* (FLAGS)").await;
    assert_ok(&r);
    assert_eq!(r.len(), 1, "{r:?}");
    // An explicit number beyond EXISTS returns nothing.
    let r = raw.cmd("FETCH 1 (FLAGS)").await;
    assert!(!has(&r, "FETCH ("), "{r:?}");
}

// ----- STORE -----

#[tokio::test]
async fn store_add_remove_replace_and_silent() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    fill_inbox(&mut raw, 2).await;
    raw.cmd("SELECT INBOX").await;

    let r = raw.cmd("STORE 1 +FLAGS (\\Flagged \\Seen)").await;
    assert_ok(&r);
    let l = fetch_line(&r, 1);
    assert!(l.contains("\\Flagged") && l.contains("\\Seen"), "{l}");

    let r = raw.cmd("STORE 1 -FLAGS (\\Seen)").await;
    let l = fetch_line(&r, 1);
    assert!(l.contains("FLAGS (\\Flagged \\Recent)"), "{l}");

    let r = raw.cmd("STORE 1 FLAGS (\\Answered)").await;
    assert!(fetch_line(&r, 1).contains("FLAGS (\\Answered \\Recent)"), "{r:?}");

    let r = raw.cmd("STORE 1:2 +FLAGS.SILENT (\\Draft)").await;
    assert_ok(&r);
    assert_eq!(r.len(), 1, ".SILENT sends no FETCH: {r:?}");
    let r = raw.cmd("STORE 2 FLAGS.SILENT ()").await;
    assert_eq!(r.len(), 1, "{r:?}");

    let r = raw.cmd("FETCH 1:2 FLAGS").await;
    let l1 = fetch_line(&r, 1);
    assert!(l1.contains("\\Answered") && l1.contains("\\Draft") && !l1.contains("\\Flagged"), "{l1}");
    assert!(fetch_line(&r, 2).contains("FLAGS (\\Recent)"), "{r:?}");

    // UID STORE includes the UID.
    let r = raw.cmd("UID STORE 2 +FLAGS (\\Seen)").await;
    let l = fetch_line(&r, 2);
    assert!(l.contains("UID 2") && l.contains("\\Seen"), "{l}");

    let mut client = common::client(server.addr).await;
    client.select("INBOX").await.unwrap();
    let f: Vec<_> = client.store("1", "+FLAGS (\\Deleted)").await.unwrap().try_collect().await.unwrap();
    assert!(f[0].flags().any(|f| f == async_imap::types::Flag::Deleted));
}

#[tokio::test]
async fn keywords_are_kept_with_their_case() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    fill_inbox(&mut raw, 1).await;
    raw.cmd("SELECT INBOX").await;
    let r = raw.cmd("STORE 1 +FLAGS ($Junk $Forwarded MyLabel)").await;
    let l = fetch_line(&r, 1);
    for k in ["$Junk", "$Forwarded", "MyLabel"] {
        assert!(l.contains(k), "{k}: {l}");
    }
    // Keywords are case-insensitive: removing `$junk` removes `$Junk`.
    let r = raw.cmd("STORE 1 -FLAGS ($junk)").await;
    let l = fetch_line(&r, 1);
    assert!(!l.to_ascii_lowercase().contains("$junk"), "{l}");
    // A new SELECT announces the keywords in FLAGS and PERMANENTFLAGS.
    let r = raw.cmd("SELECT INBOX").await;
    let flags = r.iter().find(|l| l.starts_with("* FLAGS (")).unwrap();
    assert!(flags.contains("$Forwarded") && flags.contains("MyLabel"), "{flags}");
    let perm = r.iter().find(|l| l.contains("[PERMANENTFLAGS")).unwrap();
    assert!(perm.contains("\\*"), "{perm}");
    let r = raw.cmd("FETCH 1 FLAGS").await;
    assert!(fetch_line(&r, 1).contains("$Forwarded"), "{r:?}");
}

#[tokio::test]
async fn store_in_read_only_mailbox_is_refused() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    fill_inbox(&mut raw, 1).await;
    raw.cmd("EXAMINE INBOX").await;
    let r = raw.cmd("STORE 1 +FLAGS (\\Seen)").await;
    assert_no(&r);
    let r = raw.cmd("UID STORE 1 +FLAGS (\\Seen)").await;
    assert_no(&r);
    let r = raw.cmd("FETCH 1 FLAGS").await;
    assert!(fetch_line(&r, 1).contains("FLAGS (\\Recent)"), "{r:?}");
}

// ----- COPY, MOVE -----

#[tokio::test]
async fn copy_returns_copyuid_and_keeps_flags() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    fill_inbox(&mut raw, 3).await;
    raw.cmd("SELECT INBOX").await;
    raw.cmd("STORE 2 +FLAGS ($Important \\Flagged)").await;
    let r = raw.cmd("COPY 2:3 Archive").await;
    assert_ok(&r);
    let args = code_args(tagged(&r), "COPYUID");
    assert_eq!(args, [uidvalidity(&mut raw, "Archive").await, "2:3".into(), "1:2".into()], "{r:?}");
    // The source is unchanged.
    let r = raw.cmd("FETCH 1:* UID").await;
    assert_eq!(r.len(), 4, "{r:?}");

    let r = raw.cmd("EXAMINE Archive").await;
    assert!(has(&r, "* 2 EXISTS"), "{r:?}");
    let r = raw.cmd("FETCH 1:2 (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])").await;
    let l = fetch_line(&r, 1);
    assert!(l.contains("\\Flagged") && l.contains("$Important") && l.contains("msg2"), "{l}");
    assert!(fetch_line(&r, 2).contains("msg3"), "{r:?}");

    // UID COPY with the independent client.
    let mut client = common::client(server.addr).await;
    client.select("INBOX").await.unwrap();
    client.uid_copy("1", "Trash").await.unwrap();
    let r = raw.cmd("STATUS Trash (MESSAGES)").await;
    assert!(r[0].contains("MESSAGES 1"), "{r:?}");
}

#[tokio::test]
async fn move_sends_copyuid_then_expunges_then_ok() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    fill_inbox(&mut raw, 4).await;
    raw.cmd("SELECT INBOX").await;
    raw.cmd("STORE 2 +FLAGS.SILENT (\\Seen)").await;
    let r = raw.cmd("MOVE 2:3 Trash").await;
    assert_ok(&r);
    // RFC 6851 §4.3: COPYUID in an untagged OK before the expunges.
    let v = uidvalidity(&mut raw, "Trash").await;
    assert!(r[0].starts_with(&format!("* OK [COPYUID {v} 2:3 1:2]")), "{r:?}");
    assert_eq!(&r[1..3], ["* 2 EXPUNGE", "* 2 EXPUNGE"], "{r:?}");
    assert_eq!(r.len(), 4, "{r:?}");
    assert!(!tagged(&r).contains("COPYUID"), "{r:?}");

    let r = raw.cmd("FETCH 1:* UID").await;
    assert!(fetch_line(&r, 1).contains("UID 1") && fetch_line(&r, 2).contains("UID 4"), "{r:?}");
    assert_eq!(r.len(), 3, "{r:?}");
    let r = raw.cmd("STATUS Trash (MESSAGES UNSEEN)").await;
    assert!(r[0].contains("MESSAGES 2 UNSEEN 1"), "flags kept: {r:?}");

    let mut client = common::client(server.addr).await;
    client.select("INBOX").await.unwrap();
    client.mv("1", "Archive").await.unwrap();
    client.uid_mv("4", "Archive").await.unwrap();
    let r = raw.cmd("STATUS Archive (MESSAGES)").await;
    assert!(r[0].contains("MESSAGES 2"), "{r:?}");
}

#[tokio::test]
async fn copy_and_move_to_missing_mailbox_say_trycreate() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    fill_inbox(&mut raw, 1).await;
    raw.cmd("SELECT INBOX").await;
    for c in ["COPY 1 Nowhere", "MOVE 1 Nowhere", "UID COPY 1 Nowhere", "UID MOVE 1 Nowhere"] {
        let r = raw.cmd(c).await;
        assert!(tagged(&r).starts_with("T NO [TRYCREATE]"), "{c}: {r:?}");
    }
    let r = raw.cmd("FETCH 1 UID").await;
    assert!(fetch_line(&r, 1).contains("UID 1"), "{r:?}");
}

// ----- EXPUNGE -----

#[tokio::test]
async fn expunge_sends_correct_sequence_numbers() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    fill_inbox(&mut raw, 5).await;
    raw.cmd("SELECT INBOX").await;
    raw.cmd("STORE 2:4 +FLAGS.SILENT (\\Deleted)").await;
    let r = raw.cmd("EXPUNGE").await;
    assert_ok(&r);
    assert_eq!(&r[..r.len() - 1], ["* 2 EXPUNGE", "* 2 EXPUNGE", "* 2 EXPUNGE"], "{r:?}");
    let r = raw.cmd("FETCH 1:* UID").await;
    assert_eq!(&r[..2], ["* 1 FETCH (UID 1)", "* 2 FETCH (UID 5)"], "{r:?}");

    // Non-adjacent: 1 and 3 of 3 → `* 1`, then old 3 is now 2.
    fill_inbox(&mut raw, 1).await;
    raw.cmd("NOOP").await;
    raw.cmd("STORE 1,3 +FLAGS.SILENT (\\Deleted)").await;
    let r = raw.cmd("EXPUNGE").await;
    assert_eq!(&r[..r.len() - 1], ["* 1 EXPUNGE", "* 2 EXPUNGE"], "{r:?}");

    let mut client = common::client(server.addr).await;
    client.select("INBOX").await.unwrap();
    let _: Vec<_> = client.store("1", "+FLAGS (\\Deleted)").await.unwrap().try_collect().await.unwrap();
    let seqs: Vec<u32> = client.expunge().await.unwrap().try_collect().await.unwrap();
    assert_eq!(seqs, [1]);
}

#[tokio::test]
async fn uid_expunge_only_expunges_given_uids() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    fill_inbox(&mut raw, 3).await;
    raw.cmd("SELECT INBOX").await;
    raw.cmd("STORE 1:3 +FLAGS.SILENT (\\Deleted)").await;
    let r = raw.cmd("UID EXPUNGE 2").await;
    assert_ok(&r);
    assert_eq!(&r[..r.len() - 1], ["* 2 EXPUNGE"], "{r:?}");
    let r = raw.cmd("UID FETCH 1:* FLAGS").await;
    assert!(fetch_line(&r, 1).contains("UID 1") && fetch_line(&r, 2).contains("UID 3"), "{r:?}");
    // A UID without \Deleted is not expunged.
    raw.cmd("STORE 1 -FLAGS.SILENT (\\Deleted)").await;
    let r = raw.cmd("UID EXPUNGE 1:3").await;
    assert_eq!(&r[..r.len() - 1], ["* 2 EXPUNGE"], "{r:?}");
    let r = raw.cmd("STATUS INBOX (MESSAGES)").await;
    assert!(r[0].contains("MESSAGES 1"), "{r:?}");
}

#[tokio::test]
async fn uids_are_never_reused_and_uidnext_grows() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    let uids = fill_inbox(&mut raw, 2).await;
    assert_eq!(uids, [1, 2]);
    raw.cmd("SELECT INBOX").await;
    raw.cmd("STORE 2 +FLAGS.SILENT (\\Deleted)").await;
    assert_ok(&raw.cmd("EXPUNGE").await);
    raw.cmd("UNSELECT").await;
    let r = raw.cmd("STATUS INBOX (UIDNEXT MESSAGES)").await;
    assert!(r[0].contains("UIDNEXT 3 MESSAGES 1"), "{r:?}");
    let uid = append(&mut raw, "INBOX", &message("after", "x")).await;
    assert_eq!(uid, 3);
    let r = raw.cmd("SELECT INBOX").await;
    assert!(has(&r, "[UIDNEXT 4]"), "{r:?}");
    // MOVE away and back: new UIDs again.
    let r = raw.cmd("UID MOVE 3 Trash").await;
    assert_ok(&r);
    raw.cmd("SELECT Trash").await;
    let r = raw.cmd("UID MOVE 1 INBOX").await;
    assert!(r[0].contains("[COPYUID ") && r[0].contains(" 1 4]"), "{r:?}");
}
