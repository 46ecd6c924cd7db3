//! Every command in every state where it is not allowed gets BAD or NO, and
//! the connection stays usable (RFC 9051 §6: commands are valid only in the
//! states their section names; mox's TestState).

mod common;

use common::{Raw, PASSWORD, USER};

/// One sample of every command, with valid arguments.
const COMMANDS: &[(&str, &[State])] = &[
    ("STARTTLS", &[State::NotAuth]),
    ("AUTHENTICATE PLAIN", &[State::NotAuth]),
    ("LOGIN nobody nothing", &[State::NotAuth]),
    ("ENABLE IMAP4rev2", &[State::Auth, State::Selected]),
    ("SELECT INBOX", &[State::Auth, State::Selected]),
    ("EXAMINE INBOX", &[State::Auth, State::Selected]),
    ("CREATE stateprobe", &[State::Auth, State::Selected]),
    ("DELETE stateprobe", &[State::Auth, State::Selected]),
    ("RENAME stateprobe stateprobe2", &[State::Auth, State::Selected]),
    ("SUBSCRIBE INBOX", &[State::Auth, State::Selected]),
    ("UNSUBSCRIBE nothing", &[State::Auth, State::Selected]),
    ("LIST \"\" *", &[State::Auth, State::Selected]),
    ("LSUB \"\" *", &[State::Auth, State::Selected]),
    ("NAMESPACE", &[State::Auth, State::Selected]),
    ("STATUS INBOX (MESSAGES)", &[State::Auth, State::Selected]),
    ("APPEND INBOX {3+}\r\nx\r\n", &[State::Auth, State::Selected]),
    ("CHECK", &[State::Selected]),
    ("CLOSE", &[State::Selected]),
    ("UNSELECT", &[State::Selected]),
    ("EXPUNGE", &[State::Selected]),
    ("UID EXPUNGE 1", &[State::Selected]),
    ("SEARCH ALL", &[State::Selected]),
    ("UID SEARCH ALL", &[State::Selected]),
    ("SORT (DATE) UTF-8 ALL", &[State::Selected]),
    ("UID SORT RETURN (COUNT) (REVERSE SUBJECT) UTF-8 ALL", &[State::Selected]),
    ("THREAD REFERENCES UTF-8 ALL", &[State::Selected]),
    ("UID THREAD ORDEREDSUBJECT UTF-8 ALL", &[State::Selected]),
    ("FETCH 1 FLAGS", &[State::Selected]),
    ("UID FETCH 1 FLAGS", &[State::Selected]),
    ("STORE 1 +FLAGS (\\Seen)", &[State::Selected]),
    ("UID STORE 1 +FLAGS (\\Seen)", &[State::Selected]),
    // RFC 8508 §3.5: REPLACE and UID REPLACE only in the selected state.
    ("REPLACE 1 INBOX {3+}\r\nx\r\n", &[State::Selected]),
    ("UID REPLACE 1 INBOX {3+}\r\nx\r\n", &[State::Selected]),
    ("COPY 1 Trash", &[State::Selected]),
    ("UID COPY 1 Trash", &[State::Selected]),
    ("MOVE 1 Trash", &[State::Selected]),
    ("UID MOVE 1 Trash", &[State::Selected]),
    ("NOTIFY NONE", &[State::Auth, State::Selected]),
    ("COMPRESS DEFLATE", &[State::Auth, State::Selected]),
    ("UNAUTHENTICATE", &[State::Auth, State::Selected]),
    ("GETQUOTAROOT INBOX", &[State::Auth, State::Selected]),
    ("GETQUOTA \"\"", &[State::Auth, State::Selected]),
    ("SETQUOTA \"\" (STORAGE 1)", &[State::Auth, State::Selected]),
    ("CANCELUPDATE \"x\"", &[State::Selected]),
    ("GETMETADATA \"\" /shared/comment", &[State::Auth, State::Selected]),
    ("SETMETADATA INBOX (/private/comment NIL)", &[State::Auth, State::Selected]),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    NotAuth,
    Auth,
    Selected,
}

async fn in_state(addr: std::net::SocketAddr, state: State) -> Raw {
    let mut raw = Raw::connect(addr).await;
    if state != State::NotAuth {
        let r = raw.cmd(&format!("LOGIN {USER} \"{PASSWORD}\"")).await;
        assert!(r.last().unwrap().starts_with("T OK"), "{r:?}");
    }
    if state == State::Selected {
        let r = raw.cmd("SELECT INBOX").await;
        assert!(r.last().unwrap().starts_with("T OK"), "{r:?}");
    }
    raw
}

#[tokio::test]
async fn every_command_in_every_wrong_state_is_refused() {
    let server = common::start().await;
    // A message so that sequence number 1 exists in the selected state.
    let mut setup = Raw::login(server.addr).await;
    common::append(&mut setup, "INBOX", &common::message("state", "probe")).await;

    for state in [State::NotAuth, State::Auth, State::Selected] {
        let mut raw = in_state(server.addr, state).await;
        for (cmd, allowed) in COMMANDS {
            if allowed.contains(&state) {
                continue;
            }
            raw.send(format!("W {cmd}\r\n").as_bytes()).await;
            let r = raw.until_tagged("W").await;
            let last = r.last().unwrap();
            assert!(
                last.starts_with("W BAD") || last.starts_with("W NO"),
                "{cmd} in {state:?} must be refused, got {r:?}"
            );
            // The connection is still usable and still in the same state.
            let r = raw.cmd("NOOP").await;
            assert!(r.last().unwrap().starts_with("T OK"), "after {cmd} in {state:?}: {r:?}");
        }
    }
}

#[tokio::test]
async fn commands_in_their_own_state_are_not_rejected_as_misplaced() {
    let server = common::start().await;
    let mut setup = Raw::login(server.addr).await;
    common::append(&mut setup, "INBOX", &common::message("state", "probe")).await;
    for (cmd, allowed) in COMMANDS {
        // STARTTLS and AUTHENTICATE need a conversation of their own.
        if cmd.starts_with("STARTTLS") || cmd.starts_with("AUTHENTICATE") {
            continue;
        }
        for &state in *allowed {
            let mut raw = in_state(server.addr, state).await;
            raw.send(format!("W {cmd}\r\n").as_bytes()).await;
            let r = raw.until_tagged("W").await;
            let last = r.last().unwrap();
            assert!(!last.starts_with("W BAD"), "{cmd} in {state:?} is allowed but got {r:?}");
        }
    }
}

#[tokio::test]
async fn any_state_commands_work_everywhere() {
    let server = common::start().await;
    for state in [State::NotAuth, State::Auth, State::Selected] {
        let mut raw = in_state(server.addr, state).await;
        for cmd in ["CAPABILITY", "NOOP", "ID NIL"] {
            let r = raw.cmd(cmd).await;
            assert!(r.last().unwrap().starts_with("T OK"), "{cmd} in {state:?}: {r:?}");
        }
        let r = raw.cmd("LOGOUT").await;
        assert!(r.iter().any(|l| l.starts_with("* BYE")), "{r:?}");
        assert!(r.last().unwrap().starts_with("T OK"), "{r:?}");
    }
}

/// RFC 8437: UNAUTHENTICATE returns to Not Authenticated, leaving the selected
/// mailbox without expunging; a new login (pipelined, with SASL-IR) works.
#[tokio::test]
async fn unauthenticate_resets_the_connection() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    common::append(&mut raw, "INBOX", &common::message("keep", "x")).await;
    raw.cmd("SELECT INBOX").await;
    raw.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)").await;
    let r = raw.cmd("UNAUTHENTICATE").await;
    assert!(r.last().unwrap().starts_with("T OK"), "{r:?}");
    let r = raw.cmd("SELECT INBOX").await;
    assert!(r.last().unwrap().starts_with("T BAD"), "not authenticated any more: {r:?}");
    let r = raw.cmd("CAPABILITY").await;
    assert!(r[0].contains("AUTH=PLAIN"), "{r:?}");
    // Pipelined re-authentication in one round trip.
    let ir = "AGFsaWNlAGNvcnJlY3QgaG9yc2UgYmF0dGVyeSBzdGFwbGU="; // \0alice\0correct horse battery staple
    raw.send(format!("U UNAUTHENTICATE\r\nA AUTHENTICATE PLAIN {ir}\r\n").as_bytes()).await;
    let r = raw.until_tagged("U").await;
    assert!(r.last().unwrap().starts_with("U BAD"), "not authenticated, so BAD: {r:?}");
    let r = raw.until_tagged("A").await;
    assert!(r.last().unwrap().starts_with("A OK"), "{r:?}");
    let r = raw.cmd("SELECT INBOX").await;
    assert!(r.iter().any(|l| l == "* 1 EXISTS"), "no expunge happened: {r:?}");
}

/// RFC 5032 WITHIN: OLDER and YOUNGER against the internal date.
#[tokio::test]
async fn within_older_and_younger() {
    let server = common::start().await;
    let mut raw = Raw::login(server.addr).await;
    let old = common::message("old", "x");
    raw.send(format!("A APPEND INBOX \"01-Jan-2020 00:00:00 +0000\" {{{}+}}\r\n", old.len()).as_bytes()).await;
    raw.send(&old).await;
    raw.send(b"\r\n").await;
    raw.until_tagged("A").await;
    common::append(&mut raw, "INBOX", &common::message("new", "x")).await;
    raw.cmd("SELECT INBOX").await;
    let r = raw.cmd("SEARCH YOUNGER 3600").await;
    assert!(r.iter().any(|l| l == "* SEARCH 2"), "{r:?}");
    let r = raw.cmd("SEARCH OLDER 3600").await;
    assert!(r.iter().any(|l| l == "* SEARCH 1"), "{r:?}");
    assert!(raw.cmd("CAPABILITY").await[0].contains("WITHIN"));
}
