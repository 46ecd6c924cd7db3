//! Hostile and broken clients: after every bad input the server answers BAD
//! or NO (or, where the protocol offers no way on, `* BYE` and closes), the
//! connection goes on where it is still open, and the mailbox is intact
//! afterwards: the messages appended beforehand are still there, byte for
//! byte, and no mailbox appeared.

mod common;

use std::time::Duration;

use common::{Raw, TIMEOUT};
use tokio::io::{AsyncBufReadExt, AsyncReadExt};

/// A server with three messages in INBOX.
struct Fixture {
    server: common::TestServer,
    msgs: Vec<Vec<u8>>,
    mailboxes: Vec<String>,
}

async fn fixture(tweak: impl FnOnce(&mut postfach::config::Config)) -> Fixture {
    let server = common::start_with(tweak).await;
    let mut raw = Raw::login(server.addr).await;
    let mut msgs = vec![
        common::message("first", "hello"),
        b"From: =?utf-8?q?J=C3=B6rg?= <j@example.org>\r\nSubject: Gr\xc3\xbc\xc3\x9fe\r\n\
          Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\
          \xc3\x84\xc3\x96\xc3\x9c \xe2\x82\xac \xff\xfe 8-bit bytes\r\n.\r\n\r\n"
            .to_vec(),
    ];
    let mut big = common::message("big", "");
    for i in 0..800 {
        big.extend_from_slice(format!("line {i:04} of a longer message body, {}\r\n", "x".repeat(40)).as_bytes());
    }
    msgs.push(big);
    for (i, m) in msgs.iter().enumerate() {
        let uid = common::append(&mut raw, "INBOX", m).await;
        assert_eq!(uid, i as u32 + 1);
    }
    let mailboxes = list_all(&mut raw).await;
    msgs.shrink_to_fit();
    Fixture { server, msgs, mailboxes }
}

impl Fixture {
    fn addr(&self) -> std::net::SocketAddr {
        self.server.addr
    }

    /// A logged-in session with INBOX selected.
    async fn selected(&self) -> Raw {
        let mut raw = Raw::login(self.server.addr).await;
        let r = raw.cmd("SELECT INBOX").await;
        assert!(last(&r).starts_with("T OK"), "{r:?}");
        assert!(r.iter().any(|l| l == "* 3 EXISTS"), "{r:?}");
        raw
    }

    /// A fresh session sees the same mailboxes and byte-identical messages.
    async fn assert_intact(&self) {
        let mut raw = self.selected().await;
        let bodies = fetch_bodies(&mut raw).await;
        assert_eq!(bodies.len(), self.msgs.len(), "message count changed");
        for (i, (got, want)) in bodies.iter().zip(&self.msgs).enumerate() {
            assert!(got == want, "message {} differs: {:?}", i + 1, String::from_utf8_lossy(got));
        }
        assert_eq!(list_all(&mut raw).await, self.mailboxes, "mailboxes changed");
        let r = raw.cmd("LOGOUT").await;
        assert!(last(&r).starts_with("T OK"), "{r:?}");
    }
}

fn last(r: &[String]) -> &str {
    r.last().map(String::as_str).unwrap_or("")
}

/// `LIST "" *`, sorted.
async fn list_all(raw: &mut Raw) -> Vec<String> {
    let r = raw.cmd("LIST \"\" *").await;
    assert!(last(&r).starts_with("T OK"), "{r:?}");
    let mut names: Vec<String> = r.iter().filter(|l| l.starts_with("* LIST ")).cloned().collect();
    names.sort();
    names
}

/// `UID FETCH 1:* BODY.PEEK[]` read as bytes: the literals, in order.
async fn fetch_bodies(raw: &mut Raw) -> Vec<Vec<u8>> {
    raw.send(b"F UID FETCH 1:* BODY.PEEK[]\r\n").await;
    let mut bodies = Vec::new();
    for _ in 0..10_000 {
        let mut line = Vec::new();
        let n =
            tokio::time::timeout(TIMEOUT, raw.io.read_until(b'\n', &mut line)).await.expect("timeout").expect("read");
        assert!(n > 0, "connection closed during FETCH");
        if line.starts_with(b"F ") {
            assert!(line.starts_with(b"F OK"), "{:?}", String::from_utf8_lossy(&line));
            return bodies;
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end();
        if let Some(open) = text.strip_suffix('}').and_then(|s| s.rfind('{').map(|i| (s, i))) {
            let (s, i) = open;
            let len: usize = s[i + 1..].parse().expect("literal length");
            let mut lit = vec![0u8; len];
            tokio::time::timeout(TIMEOUT, raw.io.read_exact(&mut lit)).await.expect("timeout").expect("read");
            bodies.push(lit);
        }
    }
    panic!("FETCH response does not end");
}

/// Whether `line` is a refusal: `<tag or *> BAD …` or `<tag> NO …`.
fn is_refusal(line: &str) -> bool {
    let mut parts = line.splitn(3, ' ');
    let _tag = parts.next();
    matches!(parts.next(), Some("BAD") | Some("NO"))
}

fn is_bad(line: &str) -> bool {
    line.splitn(3, ' ').nth(1) == Some("BAD")
}

/// Sends `bytes` (complete lines, no literals) and then `T NOOP`: everything
/// before NOOP's OK must be refusals (at least one), and NOOP must succeed.
async fn probe(raw: &mut Raw, bytes: &[u8]) -> Vec<String> {
    raw.send(bytes).await;
    raw.send(b"T NOOP\r\n").await;
    let r = raw.until_tagged("T").await;
    let what = String::from_utf8_lossy(bytes);
    assert!(last(&r).starts_with("T OK"), "NOOP after {what:?}: {r:?}");
    let before = &r[..r.len() - 1];
    assert!(!before.is_empty(), "no answer to {what:?}: {r:?}");
    assert!(before.iter().all(|l| is_refusal(l)), "{what:?} must be refused: {r:?}");
    r
}

/// Like [`probe`] for one command tagged `A`, which must get a tagged BAD.
async fn probe_bad(raw: &mut Raw, command: &str) {
    let r = probe(raw, format!("A {command}\r\n").as_bytes()).await;
    assert_eq!(r.len(), 2, "{command}: {r:?}");
    assert!(r[0].starts_with("A BAD"), "{command} must be BAD: {r:?}");
}

/// The server closes the connection (EOF or reset) before the timeout.
async fn assert_closed(raw: &mut Raw) {
    let mut buf = [0u8; 1024];
    let mut seen = Vec::new();
    loop {
        match tokio::time::timeout(TIMEOUT, raw.io.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return,
            Ok(Ok(n)) => {
                seen.extend_from_slice(&buf[..n]);
                assert!(seen.len() < 64 * 1024, "connection stays open: {:?}", String::from_utf8_lossy(&seen));
            }
            Err(_) => panic!("connection not closed; got {:?}", String::from_utf8_lossy(&seen)),
        }
    }
}

/// Message 1 has no flags set by a refused command.
async fn assert_unflagged(raw: &mut Raw) {
    let r = raw.cmd("FETCH 1 (FLAGS)").await;
    assert!(last(&r).starts_with("T OK"), "{r:?}");
    let l = r.iter().find(|l| l.starts_with("* 1 FETCH (")).unwrap_or_else(|| panic!("{r:?}"));
    assert!(!l.contains("\\Se") && !l.contains("yword") && !l.contains("\\Flagged"), "{l:?}");
}

/// No further output within a short while (nothing of a rejected input is
/// executed later).
async fn assert_quiet(raw: &mut Raw) {
    if let Some(l) = raw.maybe_line(Duration::from_millis(200)).await {
        panic!("unexpected output {l:?}");
    }
}

// ----- garbage and malformed commands -----

#[tokio::test]
async fn garbage_bytes() {
    let f = fixture(|_| {}).await;
    let mut raw = f.selected().await;
    for bytes in [
        b"\x01\x02\x03 garbage \xff\xfe\r\n".as_slice(),
        b")(\r\n",
        b"*\r\n",
        b"+\r\n",
        b"* OK hello\r\n",
        b"\xc3\x28\xa0\xa1 \x80\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n",
        b"GET / HTTP/1.1\r\n",
    ] {
        probe(&mut raw, bytes).await;
    }
    // The same before authentication.
    let mut raw = Raw::connect(f.addr()).await;
    probe(&mut raw, b"\x01\x02\x03 garbage \xff\xfe\r\n").await;
    probe(&mut raw, b"GET / HTTP/1.1\r\nHost: x\r\n").await;
    f.assert_intact().await;
}

#[tokio::test]
async fn unknown_commands() {
    let f = fixture(|_| {}).await;
    let mut raw = f.selected().await;
    for cmd in ["FROBNICATE", "FROBNICATE INBOX (x y)", "UID FROB 1", "UID", "XLIST \"\" *", "NOOPX", "NO OP"] {
        probe_bad(&mut raw, cmd).await;
    }
    f.assert_intact().await;
}

#[tokio::test]
async fn missing_tag() {
    let f = fixture(|_| {}).await;
    let mut raw = f.selected().await;
    for bytes in [b"NOOP\r\n".as_slice(), b" NOOP\r\n", b"  \r\n", b"A\r\n", b"A \r\n"] {
        let r = probe(&mut raw, bytes).await;
        assert!(!r.iter().any(|l| l.contains(" OK") && !l.starts_with("T ")), "{r:?}");
    }
    f.assert_intact().await;
}

#[tokio::test]
async fn bad_tag_characters() {
    let f = fixture(|_| {}).await;
    let mut raw = f.selected().await;
    for tag in [
        b"A(1".as_slice(),
        b"A)1",
        b"A*1",
        b"A%1",
        b"A\"1",
        b"A\\1",
        b"A{1",
        b"+",
        b"A+",
        b"*A",
        b"\xc3\xa4",
        b"A\x7f",
        b"A\x01",
    ] {
        let mut cmd = tag.to_vec();
        cmd.extend_from_slice(b" NOOP\r\n");
        let r = probe(&mut raw, &cmd).await;
        // Never executed: no OK for the bad tag.
        assert_eq!(r.len(), 2, "{:?}: {r:?}", String::from_utf8_lossy(tag));
    }
    f.assert_intact().await;
}

#[tokio::test]
async fn nul_byte_inside_a_command() {
    let f = fixture(|_| {}).await;
    let mut raw = f.selected().await;
    for bytes in [
        b"A NO\0OP\r\n".as_slice(),
        b"A NOOP\0\r\n",
        b"\0A NOOP\r\n",
        b"A SELECT \"IN\0BOX\"\r\n",
        b"A SEARCH SUBJECT \"a\0b\"\r\n",
        b"A CREATE \"evil\0name\"\r\n",
        b"A CREATE evil\0name\r\n",
        b"A STORE 1 +FLAGS (\\Se\0en)\r\n",
    ] {
        probe(&mut raw, bytes).await;
    }
    // Still selected, flags untouched.
    assert_unflagged(&mut raw).await;
    f.assert_intact().await;
}

#[tokio::test]
async fn unterminated_quoted_string() {
    let f = fixture(|_| {}).await;
    let mut raw = f.selected().await;
    for bytes in [
        b"A SELECT \"INBOX\r\n".as_slice(),
        b"A SEARCH SUBJECT \"abc\r\n",
        b"A SELECT \"INBOX\\\"\r\n",
        b"A CREATE \"unterminated\r\n",
        b"A STATUS \"INBOX (MESSAGES)\r\n",
    ] {
        probe(&mut raw, bytes).await;
    }
    // Before authentication: a LOGIN with an unterminated password.
    let mut raw = Raw::connect(f.addr()).await;
    probe(&mut raw, b"A LOGIN alice \"correct horse battery staple\r\n").await;
    let r = raw.cmd("SELECT INBOX").await;
    assert!(is_refusal(last(&r)), "must not be logged in: {r:?}");
    f.assert_intact().await;
}

#[tokio::test]
async fn quoted_string_with_cr_lf_or_bad_escape() {
    let f = fixture(|_| {}).await;
    let mut raw = f.selected().await;
    for bytes in [
        b"A SELECT \"IN\rBOX\"\r\n".as_slice(),
        b"A CREATE \"cr\rname\"\r\n",
        // A bare LF ends the line: two broken lines, both refused.
        b"A CREATE \"lf\nname\"\r\n",
        // Only \" and \\ may be escaped (RFC 9051 §9 quoted-specials).
        b"A CREATE \"bad\\aescape\"\r\n",
        b"A SEARCH SUBJECT \"a\rb\"\r\n",
    ] {
        probe(&mut raw, bytes).await;
    }
    f.assert_intact().await;
}

#[tokio::test]
async fn eight_bit_bytes_in_an_atom() {
    let f = fixture(|_| {}).await;
    let mut raw = f.selected().await;
    for bytes in [
        b"A SELECT IN\xffBOX\r\n".as_slice(),
        b"A CREATE foo\xffbar\r\n",
        b"A FETCH 1 FL\xc3\xa4GS\r\n",
        b"A STORE 1 +FLAGS (\\Seen k\xe9yword)\r\n",
        b"A N\xc3\x96OP\r\n",
    ] {
        probe(&mut raw, bytes).await;
    }
    assert_unflagged(&mut raw).await;
    f.assert_intact().await;
}

// ----- line and literal limits -----

#[tokio::test]
async fn overlong_line() {
    let f = fixture(|c| c.limits.max_line_length = 1000).await;
    let mut raw = f.selected().await;
    // A line well under the limit is fine.
    let r = raw.cmd(&format!("SEARCH SUBJECT \"{}\"", "y".repeat(800))).await;
    assert!(last(&r).starts_with("T OK"), "{r:?}");
    // Over it: one refusal, nothing of the rest executed.
    raw.send(format!("A NOOP {}\r\n", "x".repeat(3000)).as_bytes()).await;
    let l = raw.line().await;
    assert!(is_bad(&l), "{l:?}");
    assert!(l.starts_with("A BAD") || l.starts_with("* BAD"), "{l:?}");
    assert_quiet(&mut raw).await;
    // The overflow carries something that looks like a command.
    let mut evil = format!("A SEARCH SUBJECT \"{}", "x".repeat(2000));
    evil.push_str("\r\nZ CREATE injected1\r\n");
    // (The part after the CRLF is a separate, valid command line.)
    raw.send(evil.as_bytes()).await;
    let l = raw.line().await;
    assert!(is_bad(&l), "{l:?}");
    let r = raw.until_tagged("Z").await;
    assert!(last(&r).starts_with("Z OK"), "a new line is a new command: {r:?}");
    let r = raw.cmd("DELETE injected1").await;
    assert!(last(&r).starts_with("T OK"), "{r:?}");
    // A huge line (a megabyte) without a line end for a while.
    let chunk = vec![b'a'; 64 * 1024];
    for _ in 0..16 {
        raw.send(&chunk).await;
    }
    raw.send(b"\r\n").await;
    let l = raw.line().await;
    assert!(is_bad(&l), "{l:?}");
    assert_quiet(&mut raw).await;
    let r = raw.cmd("NOOP").await;
    assert!(last(&r).starts_with("T OK"), "{r:?}");
    f.assert_intact().await;
}

#[tokio::test]
async fn overlong_line_with_nonsynchronizing_literal() {
    let f = fixture(|c| c.limits.max_line_length = 1000).await;
    let mut raw = f.selected().await;
    // The literal's bytes are already on the way; they must be skipped, not
    // read as commands.
    let flags = "\\Seen ".repeat(300);
    let payload = "Z CREATE injected\r\n";
    raw.send(format!("A APPEND INBOX ({}) {{{}+}}\r\n{payload}\r\n", flags.trim_end(), payload.len()).as_bytes()).await;
    let l = raw.line().await;
    assert!(is_bad(&l), "{l:?}");
    assert_quiet(&mut raw).await;
    let r = raw.cmd("NOOP").await;
    assert_eq!(r.len(), 1, "{r:?}");
    assert!(last(&r).starts_with("T OK"), "{r:?}");
    // Two literals in the overlong command.
    let payload2 = "Y DELETE INBOX\r\n";
    raw.send(
        format!(
            "A APPEND INBOX ({}) {{{}+}}\r\n{payload} {{{}+}}\r\n{payload2}\r\n",
            flags.trim_end(),
            payload.len(),
            payload2.len()
        )
        .as_bytes(),
    )
    .await;
    let l = raw.line().await;
    assert!(is_bad(&l), "{l:?}");
    assert_quiet(&mut raw).await;
    let r = raw.cmd("NOOP").await;
    assert_eq!(r.len(), 1, "{r:?}");
    f.assert_intact().await;
}

#[tokio::test]
async fn overlong_line_with_synchronizing_literal() {
    let f = fixture(|c| c.limits.max_line_length = 1000).await;
    let mut raw = f.selected().await;
    let flags = "\\Seen ".repeat(300);
    raw.send(format!("A APPEND INBOX ({}) {{19}}\r\n", flags.trim_end()).as_bytes()).await;
    let l = raw.line().await;
    assert!(!l.starts_with('+'), "no continuation for a rejected line: {l:?}");
    assert!(is_bad(&l), "{l:?}");
    let r = raw.cmd("NOOP").await;
    assert_eq!(r.len(), 1, "{r:?}");
    assert!(last(&r).starts_with("T OK"), "{r:?}");
    f.assert_intact().await;
}

/// `max_literal_size` for the literal-limit tests.
const LIMIT: u64 = 100_000;

#[tokio::test]
async fn synchronizing_literal_over_the_limit_is_toobig_without_continuation() {
    // The fixture's largest message is about 40 KB.
    let f = fixture(|c| c.limits.max_literal_size = LIMIT).await;
    let mut raw = f.selected().await;
    raw.send(format!("A APPEND INBOX {{{}}}\r\n", LIMIT + 1).as_bytes()).await;
    let l = raw.line().await;
    assert!(!l.starts_with('+'), "continuation for a literal over the limit: {l:?}");
    assert!(l.starts_with("A NO [TOOBIG]") || l.starts_with("A BAD [TOOBIG]"), "{l:?}");
    let r = raw.cmd("NOOP").await;
    assert!(last(&r).starts_with("T OK"), "{r:?}");
    // At the limit it is accepted.
    let msg = {
        let mut m = common::message("limit", "");
        m.resize(LIMIT as usize - 2, b'z');
        m.extend_from_slice(b"\r\n");
        m
    };
    raw.send(format!("A APPEND INBOX {{{}}}\r\n", msg.len()).as_bytes()).await;
    let l = raw.line().await;
    assert!(l.starts_with('+'), "{l:?}");
    raw.send(&msg).await;
    raw.send(b"\r\n").await;
    let r = raw.until_tagged("A").await;
    assert!(last(&r).starts_with("A OK"), "{r:?}");
    let r = raw.cmd("UID STORE 4 +FLAGS.SILENT (\\Deleted)").await;
    assert!(last(&r).starts_with("T OK"), "{r:?}");
    let r = raw.cmd("UID EXPUNGE 4").await;
    assert!(last(&r).starts_with("T OK"), "{r:?}");
    f.assert_intact().await;
}

#[tokio::test]
async fn nonsynchronizing_literal_over_the_limit_is_bye() {
    let f = fixture(|c| c.limits.max_literal_size = LIMIT).await;
    let mut raw = f.selected().await;
    // Only the header: the server must not wait for (or try to read) the bytes.
    raw.send(format!("A APPEND INBOX {{{}+}}\r\n", LIMIT + 1).as_bytes()).await;
    let l = raw.line().await;
    assert!(l.starts_with("* BYE"), "{l:?}");
    assert_closed(&mut raw).await;
    f.assert_intact().await;
}

#[tokio::test]
async fn absurd_literal_sizes() {
    let f = fixture(|_| {}).await;
    let mut raw = f.selected().await;
    for size in [
        "99999999999999999999",
        "9223372036854775807",
        "9223372036854775808",
        "18446744073709551615",
        "18446744073709551616",
        "4294967296",
        "340282366920938463463374607431768211456",
    ] {
        raw.send(format!("A APPEND INBOX {{{size}}}\r\n").as_bytes()).await;
        let l = raw.line().await;
        assert!(!l.starts_with('+'), "continuation for a {size}-byte literal: {l:?}");
        assert!(l.starts_with("A BAD") || l.starts_with("A NO"), "{size}: {l:?}");
        let r = raw.cmd("NOOP").await;
        assert!(last(&r).starts_with("T OK"), "{r:?}");
    }
    // Non-synchronizing: either refused as a syntax error (and the connection
    // goes on) or the connection ends with BYE.
    raw.send(b"A APPEND INBOX {99999999999999999999+}\r\n").await;
    let l = raw.line().await;
    if l.starts_with("* BYE") {
        assert_closed(&mut raw).await;
    } else {
        assert!(l.starts_with("A BAD") || l.starts_with("A NO"), "{l:?}");
        let r = raw.cmd("NOOP").await;
        assert!(last(&r).starts_with("T OK"), "{r:?}");
    }
    f.assert_intact().await;
}

#[tokio::test]
async fn huge_second_literal_after_a_small_one() {
    // The running total of a command's literals must not overflow.
    let f = fixture(|_| {}).await;
    let mut raw = f.selected().await;
    // 2^63-1 is the largest number64 (RFC 9051 §9), 2^64-1 the largest u64.
    for huge in ["9223372036854775807", "18446744073709551615"] {
        raw.send(b"A APPEND INBOX {3}\r\n").await;
        let l = raw.line().await;
        assert!(l.starts_with('+'), "{l:?}");
        raw.send(format!("abc {{{huge}}}\r\n").as_bytes()).await;
        let l = raw.line().await;
        assert!(!l.starts_with('+'), "{l:?}");
        assert!(l.starts_with("A BAD") || l.starts_with("A NO"), "connection must answer, got {l:?}");
        let r = raw.cmd("NOOP").await;
        assert!(last(&r).starts_with("T OK"), "{r:?}");
    }
    f.assert_intact().await;
}

#[tokio::test]
async fn literal_length_that_is_not_a_number() {
    let f = fixture(|_| {}).await;
    let mut raw = f.selected().await;
    for marker in ["{abc}", "{-5}", "{5a}", "{}", "{+}", "{ 5}", "{0x10}", "{+5}", "{5++}", "{\u{ff15}}", "{5}}"] {
        raw.send(format!("A APPEND INBOX {marker}\r\n").as_bytes()).await;
        let l = raw.line().await;
        assert!(!l.starts_with('+'), "continuation for {marker}: {l:?}");
        assert!(l.starts_with("A BAD"), "{marker}: {l:?}");
        let r = raw.cmd("NOOP").await;
        assert!(last(&r).starts_with("T OK"), "{r:?}");
    }
    // Before authentication, in LOGIN.
    let mut raw = Raw::connect(f.addr()).await;
    raw.send(b"A LOGIN alice {abc}\r\n").await;
    let l = raw.line().await;
    assert!(l.starts_with("A BAD"), "{l:?}");
    f.assert_intact().await;
}

#[tokio::test]
async fn literal_where_none_is_allowed_or_followed_by_junk() {
    let f = fixture(|_| {}).await;
    let mut raw = f.selected().await;
    for bytes in
        [b"A NOOP {3+}\r\nabc\r\n".as_slice(), b"A FETCH {1+}\r\n1 FLAGS\r\n", b"A APPEND INBOX {5+}\r\nhelloXYZ\r\n"]
    {
        probe(&mut raw, bytes).await;
    }
    f.assert_intact().await;
}

// ----- parser depth and syntax -----

#[tokio::test]
async fn deep_nesting_is_bad() {
    let f = fixture(|_| {}).await;
    let mut raw = f.selected().await;
    // Modest nesting is fine.
    let r = raw.cmd("SEARCH (((((ALL)))))").await;
    assert!(last(&r).starts_with("T OK"), "{r:?}");
    for depth in [33usize, 1000, 30_000] {
        let cmd = format!("SEARCH {}ALL{}", "(".repeat(depth), ")".repeat(depth));
        probe_bad(&mut raw, &cmd).await;
        // Unbalanced, too.
        let cmd = format!("SEARCH {}ALL", "(".repeat(depth));
        probe_bad(&mut raw, &cmd).await;
    }
    probe_bad(&mut raw, &format!("FETCH 1 {}FLAGS{}", "(".repeat(1000), ")".repeat(1000))).await;
    probe_bad(&mut raw, &format!("STORE 1 +FLAGS {}\\Seen{}", "(".repeat(1000), ")".repeat(1000))).await;
    assert_unflagged(&mut raw).await;
    f.assert_intact().await;
}

#[tokio::test]
async fn long_chains_of_not_and_or_do_not_crash() {
    // Recursion without parentheses: refused or answered, never a crash.
    let f = fixture(|_| {}).await;
    let mut raw = f.selected().await;
    for cmd in [format!("SEARCH {}ALL", "NOT ".repeat(10_000)), format!("SEARCH {}ALL{}", "OR ALL ".repeat(5_000), "")]
    {
        raw.send(format!("A {cmd}\r\n").as_bytes()).await;
        let r = raw.until_tagged("A").await;
        assert!(last(&r).starts_with("A OK") || last(&r).starts_with("A BAD") || last(&r).starts_with("A NO"), "{r:?}");
        let r = raw.cmd("NOOP").await;
        assert!(last(&r).starts_with("T OK"), "{r:?}");
    }
    f.assert_intact().await;
}

#[tokio::test]
async fn invalid_sequence_sets_are_bad() {
    let f = fixture(|_| {}).await;
    let mut raw = f.selected().await;
    for set in [
        "0",
        "1:0",
        "0:1",
        "a:b",
        "4294967296",
        "1:4294967296",
        "",
        "1,,2",
        "1:",
        ":1",
        "1,",
        ",1",
        "-1",
        "1:2:3",
        "*:0",
        "1.5",
        "$$",
    ] {
        probe_bad(&mut raw, &format!("FETCH {set} (FLAGS)")).await;
        probe_bad(&mut raw, &format!("UID FETCH {set} (FLAGS)")).await;
    }
    probe_bad(&mut raw, "STORE 0 +FLAGS (\\Seen)").await;
    probe_bad(&mut raw, "COPY 0 Trash").await;
    probe_bad(&mut raw, "UID MOVE 0:1 Trash").await;
    probe_bad(&mut raw, "SEARCH 0").await;
    probe_bad(&mut raw, "SEARCH UID 1:0").await;
    probe_bad(&mut raw, "UID EXPUNGE 0").await;
    f.assert_intact().await;
}

#[tokio::test]
async fn sequence_numbers_beyond_exists_are_bad() {
    // RFC 9051 §9 seq-number: "The server should respond with a tagged BAD
    // response to a command that uses a message sequence number greater than
    // the number of messages in the selected mailbox. This includes "*" if
    // the selected mailbox is empty."
    let f = fixture(|_| {}).await;
    let mut raw = f.selected().await;
    for cmd in [
        "FETCH 4 (FLAGS)",
        "FETCH 2,99 (FLAGS)",
        "FETCH 4294967295 (FLAGS)",
        "STORE 4 +FLAGS (\\Seen)",
        "COPY 9 Trash",
        "MOVE 4 Trash",
    ] {
        probe_bad(&mut raw, cmd).await;
    }
    // UIDs that do not exist are not an error: nothing matches.
    let r = raw.cmd("UID FETCH 99 (FLAGS)").await;
    assert_eq!(r.len(), 1, "{r:?}");
    assert!(last(&r).starts_with("T OK"), "{r:?}");
    f.assert_intact().await;
}

#[tokio::test]
async fn sequence_numbers_in_an_empty_mailbox_are_bad() {
    // RFC 9051 §9 seq-number: BAD for a sequence number beyond the number
    // of messages, "This includes "*" if the selected mailbox is empty."
    let f = fixture(|_| {}).await;
    let mut raw = Raw::login(f.addr()).await;
    let r = raw.cmd("SELECT Trash").await;
    assert!(r.iter().any(|l| l == "* 0 EXISTS"), "{r:?}");
    probe_bad(&mut raw, "FETCH 1 (FLAGS)").await;
    probe_bad(&mut raw, "STORE 1 +FLAGS (\\Seen)").await;
    f.assert_intact().await;
}

#[tokio::test]
async fn star_in_an_empty_mailbox_is_bad() {
    let f = fixture(|_| {}).await;
    let mut raw = Raw::login(f.addr()).await;
    let r = raw.cmd("SELECT Trash").await;
    assert!(r.iter().any(|l| l == "* 0 EXISTS"), "{r:?}");
    probe_bad(&mut raw, "FETCH * (FLAGS)").await;
    f.assert_intact().await;
}

#[tokio::test]
async fn invalid_modified_utf7_mailbox_names_are_refused() {
    // RFC 3501 §5.1.3: "&Jjo!" is not valid (no "-"), "&U,BTFw-&ZeVnLIqe-"
    // is not valid (two adjacent shifts); "&" alone is not valid either.
    let f = fixture(|_| {}).await;
    let mut raw = Raw::login(f.addr()).await;
    for name in ["&", "&Jjo!", "&U,BTFw-&ZeVnLIqe-", "&Jjo", "a&b", "&ZeVnLIqe", "&-&-x&"] {
        let r = raw.cmd(&format!("CREATE \"{name}\"")).await;
        assert!(is_refusal(last(&r)), "CREATE {name:?} must fail: {r:?}");
        let r = raw.cmd("NOOP").await;
        assert!(last(&r).starts_with("T OK"), "{r:?}");
    }
    assert_eq!(list_all(&mut raw).await, f.mailboxes, "a mailbox was created");
    // A valid encoded name works and lists as sent.
    let r = raw.cmd("CREATE \"&ZeVnLIqe-\"").await;
    assert!(last(&r).starts_with("T OK"), "{r:?}");
    let r = raw.cmd("LIST \"\" \"&ZeVnLIqe-\"").await;
    assert!(r.iter().any(|l| l.starts_with("* LIST") && l.contains("&ZeVnLIqe-")), "{r:?}");
    let r = raw.cmd("DELETE \"&ZeVnLIqe-\"").await;
    assert!(last(&r).starts_with("T OK"), "{r:?}");
    f.assert_intact().await;
}

#[tokio::test]
async fn needlessly_encoded_ascii_in_mailbox_name_is_refused() {
    // RFC 3501 §5.1.3: modified BASE64 "MUST NOT be used to represent any
    // printing US-ASCII character which can represent itself"; "&AGE-" is "a".
    let f = fixture(|_| {}).await;
    let mut raw = Raw::login(f.addr()).await;
    let r = raw.cmd("CREATE \"&AGE-\"").await;
    assert!(is_refusal(last(&r)), "{r:?}");
    assert_eq!(list_all(&mut raw).await, f.mailboxes, "a mailbox was created");
    f.assert_intact().await;
}

#[tokio::test]
async fn append_with_unclosed_flag_list() {
    let f = fixture(|_| {}).await;
    let mut raw = f.selected().await;
    // Non-synchronizing literals: everything arrives at once.
    for bytes in [
        b"A APPEND INBOX (\\Seen {5+}\r\nhello\r\n".as_slice(),
        b"A APPEND INBOX (\\Seen \\Flagged {5+}\r\nhello\r\n",
        b"A APPEND INBOX \\Seen) {5+}\r\nhello\r\n",
        b"A APPEND INBOX ((\\Seen) {5+}\r\nhello\r\n",
        b"A APPEND INBOX (\\Seen) \"not a date\" {5+}\r\nhello\r\n",
    ] {
        probe(&mut raw, bytes).await;
    }
    // Synchronizing: the server may ask for the literal before parsing.
    raw.send(b"A APPEND INBOX (\\Seen {5}\r\n").await;
    let l = raw.line().await;
    let l = if l.starts_with('+') {
        raw.send(b"hello\r\n").await;
        raw.line().await
    } else {
        l
    };
    assert!(l.starts_with("A BAD"), "{l:?}");
    let r = raw.cmd("NOOP").await;
    assert!(last(&r).starts_with("T OK"), "{r:?}");
    f.assert_intact().await;
}

#[tokio::test]
async fn search_with_unknown_charset_is_badcharset() {
    let f = fixture(|_| {}).await;
    let mut raw = f.selected().await;
    let r = raw.cmd("SEARCH CHARSET ISO-8859-99 SUBJECT hello").await;
    assert!(last(&r).starts_with("T NO [BADCHARSET"), "{r:?}");
    assert!(!r.iter().any(|l| l.starts_with("* SEARCH") || l.starts_with("* ESEARCH")), "{r:?}");
    let r = raw.cmd("UID SEARCH CHARSET ISO-8859-99 ALL").await;
    assert!(last(&r).starts_with("T NO [BADCHARSET"), "{r:?}");
    // Known charsets work.
    let r = raw.cmd("SEARCH CHARSET UTF-8 SUBJECT first").await;
    assert!(last(&r).starts_with("T OK"), "{r:?}");
    let r = raw.cmd("NOOP").await;
    assert!(last(&r).starts_with("T OK"), "{r:?}");
    f.assert_intact().await;
}

// ----- pipelining, closing, and per-connection limits -----

#[tokio::test]
async fn hundred_pipelined_noops_are_answered_in_order() {
    let f = fixture(|_| {}).await;
    let mut raw = f.selected().await;
    let mut batch = Vec::new();
    for i in 0..100 {
        batch.extend_from_slice(format!("P{i} NOOP\r\n").as_bytes());
    }
    raw.send(&batch).await;
    let r = raw.until_tagged("P99").await;
    let tagged: Vec<&String> = r.iter().filter(|l| !l.starts_with("* ")).collect();
    assert_eq!(tagged.len(), 100, "{r:?}");
    for (i, l) in tagged.iter().enumerate() {
        assert!(l.starts_with(&format!("P{i} OK")), "response {i}: {l:?}");
    }
    assert_quiet(&mut raw).await;
    // Mixed commands pipelined, including a bad one in the middle.
    raw.send(b"Q1 NOOP\r\nQ2 FETCH 0 FLAGS\r\nQ3 UID FETCH 1 (UID)\r\nQ4 BOGUS\r\nQ5 NOOP\r\n").await;
    let r = raw.until_tagged("Q5").await;
    let tagged: Vec<String> = r.iter().filter(|l| !l.starts_with("* ")).map(|l| l[..5].to_string()).collect();
    assert_eq!(tagged, ["Q1 OK", "Q2 BA", "Q3 OK", "Q4 BA", "Q5 OK"], "{r:?}");
    f.assert_intact().await;
}

/// Responses of pipelined commands may wait for the next command's, but
/// never behind something the client must see first: a continuation
/// request comes after the earlier commands' tagged responses, and a burst
/// ending in a partial command is answered without waiting for the rest.
#[tokio::test]
async fn held_back_responses_come_before_a_continuation_request() {
    let f = fixture(|_| {}).await;
    let mut raw = f.selected().await;
    // (To a mailbox that does not exist: the fixture stays intact.)
    raw.send(b"C1 NOOP\r\nC2 NOOP\r\nC3 APPEND Nowhere {9}\r\n").await;
    let mut lines = Vec::new();
    loop {
        let l = raw.line().await;
        let done = l.starts_with('+');
        lines.push(l);
        if done {
            break;
        }
    }
    let order: Vec<&str> = lines.iter().filter(|l| !l.starts_with("* ")).map(|l| &l[..2]).collect();
    assert_eq!(order, ["C1", "C2", "+ "], "{lines:?}");
    raw.send(b"Subject:x\r\n").await;
    let r = raw.until_tagged("C3").await;
    assert!(last(&r).starts_with("C3 NO [TRYCREATE]"), "{r:?}");
    // Two complete commands and the start of a third: both are answered
    // while the third is still unfinished.
    raw.send(b"D1 NOOP\r\nD2 NOOP\r\nD3 NO").await;
    let r = raw.until_tagged("D2").await;
    assert!(last(&r).starts_with("D2 OK"), "{r:?}");
    raw.send(b"OP\r\n").await;
    let r = raw.until_tagged("D3").await;
    assert!(last(&r).starts_with("D3 OK"), "{r:?}");
    f.assert_intact().await;
}

fn spool_files(f: &Fixture) -> Vec<std::path::PathBuf> {
    match std::fs::read_dir(f.server.dir.path().join("tmp")) {
        Ok(rd) => rd.filter_map(|e| e.ok()).map(|e| e.path()).collect(),
        Err(_) => Vec::new(),
    }
}

#[tokio::test]
async fn connection_closed_in_the_middle_of_a_literal_leaves_nothing() {
    // Small spool threshold: the broken literal goes to a temp file first.
    let f = fixture(|c| c.limits.spool_threshold = 100).await;
    for (sync, partial) in [(false, 50usize), (false, 500), (true, 50), (true, 500)] {
        let mut raw = f.selected().await;
        let marker = if sync { "{1000}" } else { "{1000+}" };
        raw.send(format!("A APPEND INBOX {marker}\r\n").as_bytes()).await;
        if sync {
            let l = raw.line().await;
            assert!(l.starts_with('+'), "{l:?}");
        }
        raw.send(&vec![b'm'; partial]).await;
        drop(raw);
    }
    // Give the server a moment to notice the closed connections.
    let mut left = spool_files(&f);
    for _ in 0..40 {
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        left = spool_files(&f);
    }
    assert!(left.is_empty(), "spool files left behind: {left:?}");
    let mut raw = f.selected().await;
    let r = raw.cmd("STATUS INBOX (MESSAGES)").await;
    assert!(r.iter().any(|l| l.contains("MESSAGES 3")), "{r:?}");
    f.assert_intact().await;
}

#[tokio::test]
async fn max_commands_per_connection_ends_with_bye() {
    let f = fixture(|c| c.limits.max_commands_per_connection = 5).await;
    let mut raw = Raw::connect(f.addr()).await;
    let mut answered = 0;
    let mut bye = false;
    for i in 0..10 {
        raw.send(format!("N{i} NOOP\r\n").as_bytes()).await;
        let l = raw.line().await;
        if l.starts_with("* BYE") {
            bye = true;
            break;
        }
        assert!(l.starts_with(&format!("N{i} OK")), "{l:?}");
        answered += 1;
        // BYE may follow the tagged OK of the last allowed command.
        if let Some(l) = raw.maybe_line(Duration::from_millis(100)).await {
            assert!(l.starts_with("* BYE"), "{l:?}");
            bye = true;
            break;
        }
    }
    assert!(bye, "no BYE after {answered} commands");
    assert_eq!(answered, 5, "limit 5: five commands are answered");
    assert_closed(&mut raw).await;
    f.assert_intact().await;
}
