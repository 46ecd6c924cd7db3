//! Authentication (RFC 9051 §6.2): the greeting's capabilities, LOGIN,
//! AUTHENTICATE PLAIN (RFC 4616) with and without SASL-IR (RFC 4959),
//! AUTHENTICATE LOGIN, failure handling (no user enumeration, BYE after too
//! many failures), and accounts changed while the server runs.

mod common;

use std::time::Duration;

use base64::Engine as _;
use common::{Raw, PASSWORD, USER};
use tokio::io::AsyncReadExt;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The SASL PLAIN message `authzid NUL authcid NUL passwd`, base64-encoded.
fn plain(authzid: &str, user: &str, password: &str) -> String {
    b64(format!("{authzid}\0{user}\0{password}").as_bytes())
}

/// The capability list in a `[CAPABILITY …]` response code.
fn caps_in(line: &str) -> Vec<String> {
    let start = line.find("[CAPABILITY ").unwrap_or_else(|| panic!("no CAPABILITY code in {line:?}"));
    let rest = &line[start + "[CAPABILITY ".len()..];
    let end = rest.find(']').unwrap_or_else(|| panic!("unterminated code in {line:?}"));
    rest[..end].split(' ').map(str::to_string).collect()
}

/// The capabilities of an untagged `* CAPABILITY …` line among `lines`.
fn caps_data(lines: &[String]) -> Vec<String> {
    let line = lines
        .iter()
        .find(|l| l.starts_with("* CAPABILITY "))
        .unwrap_or_else(|| panic!("no CAPABILITY data in {lines:?}"));
    line["* CAPABILITY ".len()..].split(' ').map(str::to_string).collect()
}

fn has_cap(caps: &[String], cap: &str) -> bool {
    caps.iter().any(|c| c.eq_ignore_ascii_case(cap))
}

fn last(r: &[String]) -> &str {
    r.last().map(String::as_str).unwrap_or("")
}

/// The server closes the connection: EOF (or a reset) before the timeout.
async fn assert_closed(raw: &mut Raw) {
    let mut buf = [0u8; 256];
    let mut seen = Vec::new();
    loop {
        match tokio::time::timeout(common::TIMEOUT, raw.io.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return,
            Ok(Ok(n)) => {
                seen.extend_from_slice(&buf[..n]);
                assert!(seen.len() < 4096, "connection stays open, sent {:?}", String::from_utf8_lossy(&seen));
            }
            Err(_) => panic!("connection not closed; sent {:?}", String::from_utf8_lossy(&seen)),
        }
    }
}

/// After authentication, a command of the authenticated state works.
async fn assert_authenticated(raw: &mut Raw) {
    let r = raw.cmd("SELECT INBOX").await;
    assert!(last(&r).starts_with("T OK"), "SELECT after authentication: {r:?}");
}

/// Still not authenticated: SELECT is refused, NOOP works.
async fn assert_not_authenticated(raw: &mut Raw) {
    let r = raw.cmd("NOOP").await;
    assert!(last(&r).starts_with("T OK"), "{r:?}");
    let r = raw.cmd("SELECT INBOX").await;
    assert!(last(&r).starts_with("T BAD") || last(&r).starts_with("T NO"), "SELECT before login must fail: {r:?}");
}

/// Reads one line that must be a continuation request; returns its text after `+`.
async fn continuation(raw: &mut Raw) -> String {
    let l = raw.line().await;
    assert!(l == "+" || l.starts_with("+ "), "expected a continuation request, got {l:?}");
    l.trim_start_matches('+').trim_start().to_string()
}

async fn login_line(raw: &mut Raw, user: &str, password_quoted: &str) -> String {
    let r = raw.cmd(&format!("LOGIN {user} {password_quoted}")).await;
    last(&r).to_string()
}

// ----- greeting and LOGIN -----

#[tokio::test]
async fn greeting_advertises_imap4rev2_starttls_and_auth_plain() {
    let server = common::start().await;
    let raw = Raw::connect(server.addr).await;
    assert!(raw.greeting.starts_with("* OK [CAPABILITY "), "{}", raw.greeting);
    let caps = caps_in(&raw.greeting);
    for cap in ["IMAP4rev2", "IMAP4rev1", "STARTTLS", "AUTH=PLAIN"] {
        assert!(has_cap(&caps, cap), "{cap} missing in greeting {}", raw.greeting);
    }
    // Loopback: plaintext login is allowed, so no LOGINDISABLED.
    assert!(!has_cap(&caps, "LOGINDISABLED"), "{}", raw.greeting);
}

#[tokio::test]
async fn capability_command_matches_the_greeting_before_login() {
    let server = common::start().await;
    let mut raw = Raw::connect(server.addr).await;
    let r = raw.cmd("CAPABILITY").await;
    assert!(last(&r).starts_with("T OK"), "{r:?}");
    let mut data = caps_data(&r);
    let mut greeting = caps_in(&raw.greeting);
    data.sort();
    greeting.sort();
    assert_eq!(data, greeting);
}

#[tokio::test]
async fn login_success_returns_capabilities_without_auth_and_starttls() {
    let server = common::start().await;
    let mut raw = Raw::connect(server.addr).await;
    let ok = login_line(&mut raw, USER, &format!("\"{PASSWORD}\"")).await;
    assert!(ok.starts_with("T OK [CAPABILITY "), "{ok}");
    let caps = caps_in(&ok);
    assert!(has_cap(&caps, "IMAP4rev2"), "{ok}");
    assert!(!caps.iter().any(|c| c.to_ascii_uppercase().starts_with("AUTH=")), "AUTH= after login: {ok}");
    assert!(!has_cap(&caps, "STARTTLS"), "STARTTLS after login: {ok}");
    assert!(!has_cap(&caps, "SASL-IR"), "SASL-IR after login: {ok}");
    // The CAPABILITY command agrees.
    let r = raw.cmd("CAPABILITY").await;
    let data = caps_data(&r);
    assert!(!data.iter().any(|c| c.to_ascii_uppercase().starts_with("AUTH=")), "{r:?}");
    assert!(!has_cap(&data, "STARTTLS"), "{r:?}");
    assert_authenticated(&mut raw).await;
}

#[tokio::test]
async fn login_again_after_login_is_refused() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    let r = raw.cmd(&format!("LOGIN {USER} \"{PASSWORD}\"")).await;
    assert!(last(&r).starts_with("T BAD") || last(&r).starts_with("T NO"), "{r:?}");
    let r = raw.cmd(&format!("AUTHENTICATE PLAIN {}", plain("", USER, PASSWORD))).await;
    assert!(last(&r).starts_with("T BAD") || last(&r).starts_with("T NO"), "{r:?}");
}

#[tokio::test]
async fn wrong_password_is_authenticationfailed() {
    let server = common::start().await;
    let mut raw = Raw::connect(server.addr).await;
    let no = login_line(&mut raw, USER, "\"wrong password\"").await;
    assert!(no.starts_with("T NO [AUTHENTICATIONFAILED]"), "{no}");
    assert_not_authenticated(&mut raw).await;
    // The right password still works on the same connection.
    let ok = login_line(&mut raw, USER, &format!("\"{PASSWORD}\"")).await;
    assert!(ok.starts_with("T OK"), "{ok}");
}

#[tokio::test]
async fn unknown_user_gets_the_same_answer_as_a_wrong_password() {
    let server = common::start().await;
    let mut raw = Raw::connect(server.addr).await;
    let wrong_pw = login_line(&mut raw, USER, "\"wrong password\"").await;
    let mut raw = Raw::connect(server.addr).await;
    let no_user = login_line(&mut raw, "mallory", "\"wrong password\"").await;
    assert!(no_user.starts_with("T NO [AUTHENTICATIONFAILED]"), "{no_user}");
    // Byte for byte the same: nothing tells which accounts exist.
    assert_eq!(wrong_pw, no_user);
    // Likewise with AUTHENTICATE PLAIN.
    let mut raw = Raw::connect(server.addr).await;
    let r1 = raw.cmd(&format!("AUTHENTICATE PLAIN {}", plain("", USER, "nope"))).await;
    let mut raw = Raw::connect(server.addr).await;
    let r2 = raw.cmd(&format!("AUTHENTICATE PLAIN {}", plain("", "mallory", "nope"))).await;
    assert!(last(&r1).starts_with("T NO [AUTHENTICATIONFAILED]"), "{r1:?}");
    assert_eq!(r1, r2);
}

#[tokio::test]
async fn password_is_case_sensitive() {
    let server = common::start().await;
    let mut raw = Raw::connect(server.addr).await;
    let no = login_line(&mut raw, USER, &format!("\"{}\"", PASSWORD.to_uppercase())).await;
    assert!(no.starts_with("T NO [AUTHENTICATIONFAILED]"), "{no}");
}

#[tokio::test]
async fn too_many_failures_end_the_connection_with_bye() {
    let server = common::start().await;
    assert_eq!(postfach::config::Config::default().limits.max_auth_failures, 3);
    let mut raw = Raw::connect(server.addr).await;
    for i in 0..2 {
        let no = login_line(&mut raw, USER, &format!("\"wrong {i}\"")).await;
        assert!(no.starts_with("T NO [AUTHENTICATIONFAILED]"), "attempt {i}: {no}");
    }
    raw.send(b"T LOGIN alice \"wrong 3\"\r\n").await;
    let l = raw.line().await;
    assert!(l.starts_with("* BYE"), "third failure must end with BYE, got {l:?}");
    assert_closed(&mut raw).await;
    // Per connection: a fresh connection can log in.
    let mut raw = Raw::connect(server.addr).await;
    let ok = login_line(&mut raw, USER, &format!("\"{PASSWORD}\"")).await;
    assert!(ok.starts_with("T OK"), "{ok}");
}

#[tokio::test]
async fn login_and_authenticate_failures_count_together() {
    let server = common::start_with(|c| c.limits.max_auth_failures = 2).await;
    let mut raw = Raw::connect(server.addr).await;
    let no = login_line(&mut raw, USER, "\"wrong\"").await;
    assert!(no.starts_with("T NO [AUTHENTICATIONFAILED]"), "{no}");
    raw.send(format!("T AUTHENTICATE PLAIN {}\r\n", plain("", USER, "wrong")).as_bytes()).await;
    let l = raw.line().await;
    assert!(l.starts_with("* BYE"), "second failure (limit 2) must end with BYE, got {l:?}");
    assert_closed(&mut raw).await;
}

// ----- AUTHENTICATE PLAIN -----

#[tokio::test]
async fn authenticate_plain_with_initial_response() {
    let server = common::start().await;
    let mut raw = Raw::connect(server.addr).await;
    let r = raw.cmd(&format!("AUTHENTICATE PLAIN {}", plain("", USER, PASSWORD))).await;
    assert_eq!(r.len(), 1, "no continuation expected with SASL-IR: {r:?}");
    assert!(last(&r).starts_with("T OK"), "{r:?}");
    if last(&r).starts_with("T OK [CAPABILITY ") {
        let caps = caps_in(last(&r));
        assert!(!caps.iter().any(|c| c.to_ascii_uppercase().starts_with("AUTH=")), "{r:?}");
    }
    assert_authenticated(&mut raw).await;
}

#[tokio::test]
async fn authenticate_plain_with_continuation() {
    let server = common::start().await;
    let mut raw = Raw::connect(server.addr).await;
    raw.send(b"T AUTHENTICATE PLAIN\r\n").await;
    let challenge = continuation(&mut raw).await;
    assert_eq!(challenge, "", "PLAIN starts with an empty challenge");
    raw.send(format!("{}\r\n", plain("", USER, PASSWORD)).as_bytes()).await;
    let r = raw.until_tagged("T").await;
    assert!(last(&r).starts_with("T OK"), "{r:?}");
    assert_authenticated(&mut raw).await;
}

#[tokio::test]
async fn authenticate_plain_mechanism_name_is_case_insensitive() {
    let server = common::start().await;
    let mut raw = Raw::connect(server.addr).await;
    let r = raw.cmd(&format!("authenticate plain {}", plain("", USER, PASSWORD))).await;
    assert!(last(&r).starts_with("T OK"), "{r:?}");
}

#[tokio::test]
async fn authenticate_plain_with_matching_authzid() {
    let server = common::start().await;
    let mut raw = Raw::connect(server.addr).await;
    let r = raw.cmd(&format!("AUTHENTICATE PLAIN {}", plain(USER, USER, PASSWORD))).await;
    assert!(last(&r).starts_with("T OK"), "{r:?}");
}

#[tokio::test]
async fn authenticate_plain_empty_initial_response_is_handled() {
    // RFC 4959 §3: "=" is an empty initial response. An empty PLAIN message
    // is not valid (RFC 4616 §2), so the exchange fails; the connection stays
    // usable and unauthenticated.
    let server = common::start().await;
    let mut raw = Raw::connect(server.addr).await;
    raw.send(b"T AUTHENTICATE PLAIN =\r\n").await;
    let l = raw.line().await;
    if l.starts_with('+') {
        // Treated as "no credentials yet": give them now.
        raw.send(format!("{}\r\n", plain("", USER, PASSWORD)).as_bytes()).await;
        let r = raw.until_tagged("T").await;
        assert!(last(&r).starts_with("T OK"), "{r:?}");
        return;
    }
    assert!(l.starts_with("T BAD") || l.starts_with("T NO"), "{l:?}");
    assert_not_authenticated(&mut raw).await;
    let ok = login_line(&mut raw, USER, &format!("\"{PASSWORD}\"")).await;
    assert!(ok.starts_with("T OK"), "{ok}");
}

#[tokio::test]
async fn authenticate_cancel_with_star_is_bad() {
    let server = common::start().await;
    let mut raw = Raw::connect(server.addr).await;
    raw.send(b"T AUTHENTICATE PLAIN\r\n").await;
    continuation(&mut raw).await;
    raw.send(b"*\r\n").await;
    let r = raw.until_tagged("T").await;
    assert_eq!(r.len(), 1, "{r:?}");
    assert!(last(&r).starts_with("T BAD"), "RFC 9051 §6.2.2: cancel gives BAD, got {r:?}");
    assert_not_authenticated(&mut raw).await;
    // Cancelling is not a failed authentication attempt that locks anyone out;
    // a LOGIN afterwards works.
    let ok = login_line(&mut raw, USER, &format!("\"{PASSWORD}\"")).await;
    assert!(ok.starts_with("T OK"), "{ok}");
}

#[tokio::test]
async fn authenticate_login_cancel_at_password_is_bad() {
    let server = common::start().await;
    let mut raw = Raw::connect(server.addr).await;
    raw.send(b"T AUTHENTICATE LOGIN\r\n").await;
    continuation(&mut raw).await;
    raw.send(format!("{}\r\n", b64(USER.as_bytes())).as_bytes()).await;
    continuation(&mut raw).await;
    raw.send(b"*\r\n").await;
    let r = raw.until_tagged("T").await;
    assert!(last(&r).starts_with("T BAD"), "{r:?}");
    assert_not_authenticated(&mut raw).await;
}

#[tokio::test]
async fn authenticate_malformed_base64_is_bad() {
    let server = common::start_with(|c| c.limits.max_auth_failures = 10).await;
    let mut raw = Raw::connect(server.addr).await;
    // In the continuation.
    raw.send(b"T AUTHENTICATE PLAIN\r\n").await;
    continuation(&mut raw).await;
    raw.send(b"!!!not base64!!!\r\n").await;
    let r = raw.until_tagged("T").await;
    assert!(last(&r).starts_with("T BAD"), "{r:?}");
    assert_not_authenticated(&mut raw).await;
    // As the initial response.
    let r = raw.cmd("AUTHENTICATE PLAIN AGFsaWNl*AGNvcnJlY3Q=").await;
    assert!(last(&r).starts_with("T BAD"), "{r:?}");
    assert!(!r.iter().any(|l| l.starts_with('+')), "{r:?}");
    assert_not_authenticated(&mut raw).await;
    // Valid base64, but not a PLAIN message (no NULs).
    raw.send(b"T AUTHENTICATE PLAIN\r\n").await;
    continuation(&mut raw).await;
    raw.send(format!("{}\r\n", b64(b"alice correct horse")).as_bytes()).await;
    let r = raw.until_tagged("T").await;
    assert!(last(&r).starts_with("T BAD") || last(&r).starts_with("T NO"), "{r:?}");
    assert_not_authenticated(&mut raw).await;
}

#[tokio::test]
async fn authenticate_plain_with_other_authzid_is_no() {
    // RFC 4616 §2: the server checks that the authenticated identity may act
    // as the authorization identity; if not, authentication fails (NO).
    // Even with alice's correct password she cannot become bob.
    let server = common::start().await;
    server.store.create_account("bob", &postfach::auth::hash_password("bob's password")).unwrap();
    let mut raw = Raw::connect(server.addr).await;
    let r = raw.cmd(&format!("AUTHENTICATE PLAIN {}", plain("bob", USER, PASSWORD))).await;
    assert!(last(&r).starts_with("T NO"), "{r:?}");
    assert_not_authenticated(&mut raw).await;
}

// ----- AUTHENTICATE LOGIN and other mechanisms -----

#[tokio::test]
async fn authenticate_login_mechanism() {
    let server = common::start().await;
    let mut raw = Raw::connect(server.addr).await;
    raw.send(b"T AUTHENTICATE LOGIN\r\n").await;
    assert_eq!(continuation(&mut raw).await, "VXNlcm5hbWU6", "base64 of \"Username:\"");
    raw.send(format!("{}\r\n", b64(USER.as_bytes())).as_bytes()).await;
    assert_eq!(continuation(&mut raw).await, "UGFzc3dvcmQ6", "base64 of \"Password:\"");
    raw.send(format!("{}\r\n", b64(PASSWORD.as_bytes())).as_bytes()).await;
    let r = raw.until_tagged("T").await;
    assert!(last(&r).starts_with("T OK"), "{r:?}");
    assert_authenticated(&mut raw).await;
}

#[tokio::test]
async fn authenticate_login_with_initial_response_and_wrong_password() {
    let server = common::start().await;
    let mut raw = Raw::connect(server.addr).await;
    // SASL-IR carries the user name; only the password is asked for.
    raw.send(format!("T AUTHENTICATE LOGIN {}\r\n", b64(USER.as_bytes())).as_bytes()).await;
    assert_eq!(continuation(&mut raw).await, "UGFzc3dvcmQ6");
    raw.send(format!("{}\r\n", b64(b"not the password")).as_bytes()).await;
    let r = raw.until_tagged("T").await;
    assert!(last(&r).starts_with("T NO [AUTHENTICATIONFAILED]"), "{r:?}");
    assert_not_authenticated(&mut raw).await;
}

#[tokio::test]
async fn unsupported_mechanism_is_no() {
    let server = common::start_with(|c| c.limits.max_auth_failures = 10).await;
    let mut raw = Raw::connect(server.addr).await;
    for mech in ["CRAM-MD5", "GSSAPI", "SCRAM-SHA-256", "X-UNKNOWN"] {
        let r = raw.cmd(&format!("AUTHENTICATE {mech}")).await;
        assert_eq!(r.len(), 1, "no challenge for an unsupported mechanism: {r:?}");
        assert!(last(&r).starts_with("T NO"), "{mech}: {r:?}");
        let caps = caps_in(&raw.greeting);
        assert!(!has_cap(&caps, &format!("AUTH={mech}")), "{mech} advertised");
    }
    // Also with an initial response.
    let r = raw.cmd(&format!("AUTHENTICATE CRAM-MD5 {}", b64(b"x"))).await;
    assert!(last(&r).starts_with("T NO"), "{r:?}");
    assert_not_authenticated(&mut raw).await;
}

// ----- names and passwords -----

#[tokio::test]
async fn user_names_are_case_insensitive() {
    let server = common::start().await;
    for name in ["ALICE", "Alice", "aLiCe", "\"ALICE\""] {
        let mut raw = Raw::connect(server.addr).await;
        let ok = login_line(&mut raw, name, &format!("\"{PASSWORD}\"")).await;
        assert!(ok.starts_with("T OK"), "{name}: {ok}");
        assert_authenticated(&mut raw).await;
    }
    let mut raw = Raw::connect(server.addr).await;
    let r = raw.cmd(&format!("AUTHENTICATE PLAIN {}", plain("", "ALICE", PASSWORD))).await;
    assert!(last(&r).starts_with("T OK"), "{r:?}");
    // Same account: a message appended as ALICE is seen as alice.
    common::append(&mut raw, "INBOX", &common::message("case", "x")).await;
    let mut raw = Raw::login(server.addr).await;
    let r = raw.cmd("STATUS INBOX (MESSAGES)").await;
    assert!(r.iter().any(|l| l.contains("MESSAGES 1")), "{r:?}");
}

/// `s` as an IMAP quoted string.
fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

const ODD_PASSWORD: &str = "pa ss \"quoted\" back\\slash {3} (paren) % *";

#[tokio::test]
async fn password_with_spaces_and_quotes_as_quoted_string() {
    let server = common::start().await;
    server.store.create_account("carol", &postfach::auth::hash_password(ODD_PASSWORD)).unwrap();
    let mut raw = Raw::connect(server.addr).await;
    let ok = login_line(&mut raw, "carol", &quoted(ODD_PASSWORD)).await;
    assert!(ok.starts_with("T OK"), "{ok}");
    // Unescaped it is a different (wrong) password or a syntax error.
    let mut raw = Raw::connect(server.addr).await;
    let no = login_line(&mut raw, "carol", "\"pa ss \\\"quoted\\\" back\\slash\"").await;
    assert!(no.starts_with("T NO") || no.starts_with("T BAD"), "{no}");
}

#[tokio::test]
async fn password_with_spaces_and_quotes_as_literal() {
    let server = common::start().await;
    server.store.create_account("carol", &postfach::auth::hash_password(ODD_PASSWORD)).unwrap();
    // Synchronizing literal.
    let mut raw = Raw::connect(server.addr).await;
    raw.send(format!("T LOGIN carol {{{}}}\r\n", ODD_PASSWORD.len()).as_bytes()).await;
    continuation(&mut raw).await;
    raw.send(format!("{ODD_PASSWORD}\r\n").as_bytes()).await;
    let r = raw.until_tagged("T").await;
    assert!(last(&r).starts_with("T OK"), "{r:?}");
    // Non-synchronizing literal (LITERAL+), user name as a literal too.
    let mut raw = Raw::connect(server.addr).await;
    raw.send(format!("T LOGIN {{5+}}\r\ncarol {{{}+}}\r\n{ODD_PASSWORD}\r\n", ODD_PASSWORD.len()).as_bytes()).await;
    let r = raw.until_tagged("T").await;
    assert!(last(&r).starts_with("T OK"), "{r:?}");
    assert!(!r.iter().any(|l| l.starts_with('+')), "no continuation for LITERAL+: {r:?}");
}

#[tokio::test]
async fn utf8_password_as_quoted_string_and_literal() {
    let server = common::start().await;
    let pw = "pässwörd ✓ 密码";
    server.store.create_account("dave", &postfach::auth::hash_password(pw)).unwrap();
    let mut raw = Raw::connect(server.addr).await;
    let ok = login_line(&mut raw, "dave", &quoted(pw)).await;
    assert!(ok.starts_with("T OK"), "{ok}");
    let mut raw = Raw::connect(server.addr).await;
    raw.send(format!("T LOGIN dave {{{}+}}\r\n{pw}\r\n", pw.len()).as_bytes()).await;
    let r = raw.until_tagged("T").await;
    assert!(last(&r).starts_with("T OK"), "{r:?}");
    let mut raw = Raw::connect(server.addr).await;
    let r = raw.cmd(&format!("AUTHENTICATE PLAIN {}", plain("", "dave", pw))).await;
    assert!(last(&r).starts_with("T OK"), "{r:?}");
}

// ----- an independent client -----

#[tokio::test]
async fn async_imap_client_logs_in() {
    let server = common::start().await;
    let mut session = common::client(server.addr).await;
    session.noop().await.expect("noop");
    let caps = session.capabilities().await.expect("capabilities");
    assert!(caps.has_str("IMAP4rev2"));
    assert!(!caps.has_str("STARTTLS"));
    let mailbox = session.select("INBOX").await.expect("select");
    assert_eq!(mailbox.exists, 0);
    session.logout().await.expect("logout");
}

#[tokio::test]
async fn async_imap_client_wrong_password_fails() {
    let server = common::start().await;
    let tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let mut client = async_imap::Client::new(tcp);
    let _ = client.read_response().await.expect("greeting").expect("greeting io");
    let result = client.login(USER, "wrong").await;
    assert!(result.is_err(), "login with a wrong password must fail");
}

// ----- accounts changed while the server runs -----

#[tokio::test]
async fn account_created_while_running_can_log_in_at_once() {
    let server = common::start().await;
    // Open a session first so the server is certainly running.
    let _alice = Raw::login(server.addr).await;
    server.store.create_account("erin", &postfach::auth::hash_password("erin's password")).unwrap();
    let mut raw = Raw::connect(server.addr).await;
    let ok = login_line(&mut raw, "erin", &quoted("erin's password")).await;
    assert!(ok.starts_with("T OK"), "{ok}");
    assert_authenticated(&mut raw).await;
    // Her own, empty mailboxes; alice's are not visible.
    let r = raw.cmd("STATUS INBOX (MESSAGES)").await;
    assert!(r.iter().any(|l| l.contains("MESSAGES 0")), "{r:?}");
}

#[tokio::test]
async fn changed_password_takes_effect_on_the_next_connection() {
    let server = common::start().await;
    let _before = Raw::login(server.addr).await;
    server.store.set_password_hash(USER, &postfach::auth::hash_password("new secret")).unwrap();
    let mut raw = Raw::connect(server.addr).await;
    let no = login_line(&mut raw, USER, &format!("\"{PASSWORD}\"")).await;
    assert!(no.starts_with("T NO [AUTHENTICATIONFAILED]"), "old password still works: {no}");
    let mut raw = Raw::connect(server.addr).await;
    let ok = login_line(&mut raw, USER, "\"new secret\"").await;
    assert!(ok.starts_with("T OK"), "{ok}");
    let mut raw = Raw::connect(server.addr).await;
    let r = raw.cmd(&format!("AUTHENTICATE PLAIN {}", plain("", USER, PASSWORD))).await;
    assert!(last(&r).starts_with("T NO [AUTHENTICATIONFAILED]"), "{r:?}");
}

#[tokio::test]
async fn deleted_account_can_no_longer_log_in() {
    let server = common::start().await;
    server.store.create_account("frank", &postfach::auth::hash_password("frank pw")).unwrap();
    let mut raw = Raw::connect(server.addr).await;
    let ok = login_line(&mut raw, "frank", "\"frank pw\"").await;
    assert!(ok.starts_with("T OK"), "{ok}");
    let r = raw.cmd("LOGOUT").await;
    assert!(last(&r).starts_with("T OK"), "{r:?}");
    drop(raw);
    server.store.delete_account("frank").unwrap();
    let mut raw = Raw::connect(server.addr).await;
    let no = login_line(&mut raw, "frank", "\"frank pw\"").await;
    assert!(no.starts_with("T NO [AUTHENTICATIONFAILED]"), "{no}");
    // Alice is unaffected.
    let mut raw = Raw::connect(server.addr).await;
    let ok = login_line(&mut raw, USER, &format!("\"{PASSWORD}\"")).await;
    assert!(ok.starts_with("T OK"), "{ok}");
}

#[tokio::test]
async fn overlong_sasl_response_is_refused() {
    let server = common::start_with(|c| c.limits.max_line_length = 1000).await;
    let mut raw = Raw::connect(server.addr).await;
    raw.send(b"T AUTHENTICATE PLAIN\r\n").await;
    continuation(&mut raw).await;
    let long = b64(&vec![b'a'; 3000]);
    raw.send(format!("{long}\r\n").as_bytes()).await;
    let r = raw.until_tagged("T").await;
    assert!(last(&r).starts_with("T BAD") || last(&r).starts_with("T NO"), "{r:?}");
    // Nothing of the long line is read as a command.
    assert!(raw.maybe_line(Duration::from_millis(200)).await.is_none());
    assert_not_authenticated(&mut raw).await;
}

// ---- credential cache (auth.cache_ttl, src/auth.rs) ----

#[tokio::test]
async fn wrong_password_is_refused_after_a_cached_success() {
    let server = common::start().await;
    assert_eq!(postfach::config::Config::default().auth.cache_ttl, 300);
    let mut raw = Raw::connect(server.addr).await;
    assert!(login_line(&mut raw, USER, &format!("\"{PASSWORD}\"")).await.starts_with("T OK"));
    // The success is cached now; only the very same password may use it.
    for wrong in ["\"wrong password\"", &format!("\"{PASSWORD} \""), &format!("\"{}\"", &PASSWORD[1..])] {
        let mut raw = Raw::connect(server.addr).await;
        let no = login_line(&mut raw, USER, wrong).await;
        assert!(no.starts_with("T NO [AUTHENTICATIONFAILED]"), "{wrong}: {no}");
        assert_not_authenticated(&mut raw).await;
    }
    let mut raw = Raw::connect(server.addr).await;
    assert!(login_line(&mut raw, USER, &format!("\"{PASSWORD}\"")).await.starts_with("T OK"));
}

#[tokio::test]
async fn password_change_while_running_invalidates_the_cached_login() {
    let server = common::start().await;
    let mut raw = Raw::connect(server.addr).await;
    assert!(login_line(&mut raw, USER, &format!("\"{PASSWORD}\"")).await.starts_with("T OK"));
    // What `postfach user passwd` does while the server runs.
    server.store.set_password_hash(USER, &postfach::auth::hash_password("new secret")).unwrap();
    let mut raw = Raw::connect(server.addr).await;
    let no = login_line(&mut raw, USER, &format!("\"{PASSWORD}\"")).await;
    assert!(no.starts_with("T NO [AUTHENTICATIONFAILED]"), "old password after the change: {no}");
    let mut raw = Raw::connect(server.addr).await;
    assert!(login_line(&mut raw, USER, "\"new secret\"").await.starts_with("T OK"));
    // And the other way round: the new password is cached, the old still refused.
    let mut raw = Raw::connect(server.addr).await;
    assert!(login_line(&mut raw, USER, "\"new secret\"").await.starts_with("T OK"));
    let mut raw = Raw::connect(server.addr).await;
    assert!(login_line(&mut raw, USER, &format!("\"{PASSWORD}\"")).await.starts_with("T NO"));
}

#[tokio::test]
async fn cache_ttl_zero_still_authenticates_every_login() {
    let server = common::start_with(|c| c.auth.cache_ttl = 0).await;
    for _ in 0..2 {
        let mut raw = Raw::connect(server.addr).await;
        assert!(login_line(&mut raw, USER, &format!("\"{PASSWORD}\"")).await.starts_with("T OK"));
        let mut raw = Raw::connect(server.addr).await;
        let no = login_line(&mut raw, USER, "\"wrong\"").await;
        assert!(no.starts_with("T NO [AUTHENTICATIONFAILED]"), "{no}");
    }
    server.store.set_password_hash(USER, &postfach::auth::hash_password("new secret")).unwrap();
    let mut raw = Raw::connect(server.addr).await;
    assert!(login_line(&mut raw, USER, &format!("\"{PASSWORD}\"")).await.starts_with("T NO"));
}
