//! The cross-process change feed (DESIGN.md §3): how a change committed by
//! another process — `postfach deliver`, `postfach metadata`, or another
//! worker of `serve --workers N` (`crate::workers`) — reaches the IDLE and
//! NOTIFY clients of a running server within a second.
//!
//! Every serving process (the one process of `serve`, or each worker) binds a
//! Unix datagram socket `DATA/run/notify.d/<pid>.sock` and removes it when it
//! stops. A process that committed a change sends a datagram to every socket
//! in that directory but its own, and ignores every error (no server running
//! is fine: the next session reads the store anyway); a socket nobody listens
//! on any more (a killed process's) refuses the datagram and is removed. The
//! receiving server passes each change on to the account's in-process feed if
//! a session has the account open ([`store::Store::publish_external`]); the
//! sessions then read what changed from the store, as they do for their own
//! process's changes. A datagram is only a hint — a forged one makes sessions
//! re-read the store, nothing more — so the socket needs no authentication.
//!
//! A datagram holds one change per line:
//!
//! | line | change |
//! | --- | --- |
//! | `<account> <mailbox> <modseq>` | messages of a mailbox ([`Change::Mailbox`]) |
//! | `<account> list` | mailboxes or subscriptions ([`Change::MailboxList`]) |
//! | `<account> metadata <mailbox or -> <entry>` | a METADATA entry of a mailbox or of the account's server entries |
//! | `metadata <entry>` | a server-wide `/shared` entry (`postfach metadata set` or `unset`): every session hears of it (NOTIFY ServerMetadataChange, RFC 5465 §5.7) |
//!
//! Workers forward what their own commits publish through
//! [`store::Store::set_commit_hook`] ([`forward_hook`]); what they receive
//! goes only to their own feed, so nothing is forwarded twice.

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};

use store::{AccountId, Change, MailboxId};

/// `DATA/run/notify.d`: one socket per serving process.
pub fn socket_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("run").join("notify.d")
}

/// Largest datagram sent or read. Lines are packed into datagrams up to it;
/// a longer line (a METADATA entry name near `limits.max_line_length`) is
/// dropped.
const MAX_DATAGRAM: usize = 64 * 1024;

/// What one line asks for: one account's change, or a change for all.
#[derive(Debug, PartialEq, Eq)]
enum Hint {
    Account(AccountId, Change),
    Everyone(Change),
}

/// The lines telling of `change` to `account` (one per METADATA entry).
fn encode(account: AccountId, change: &Change) -> Vec<String> {
    let a = account.0;
    match change {
        Change::Mailbox { mailbox, modseq } => vec![format!("{a} {} {modseq}\n", mailbox.0)],
        Change::MailboxList => vec![format!("{a} list\n")],
        Change::Metadata { mailbox, entries, .. } => {
            let m = mailbox.map_or("-".to_string(), |m| m.0.to_string());
            entries.iter().map(|e| format!("{a} metadata {m} {e}\n")).collect()
        }
    }
}

/// A server-wide METADATA entry changed (`postfach metadata set|unset`).
fn encode_server_metadata(entry: &str) -> String {
    format!("metadata {entry}\n")
}

/// A METADATA entry name as a line carries it (RFC 5464 §3.2: printable
/// ASCII, so spaces but no line breaks).
fn entry_name(entry: &str) -> Option<String> {
    imap_proto::check_metadata_entry(entry, false).ok()?;
    Some(entry.to_string())
}

/// The changes a datagram asks for; malformed lines are skipped.
fn decode(msg: &[u8]) -> Vec<Hint> {
    let Ok(text) = std::str::from_utf8(msg) else { return Vec::new() };
    text.split_terminator('\n').filter_map(decode_line).collect()
}

fn decode_line(line: &str) -> Option<Hint> {
    // `origin` 0 is no session's: the writer is in another process, so every
    // session that asked is told (RFC 5465 §5).
    if let Some(entry) = line.strip_prefix("metadata ") {
        let entry = entry_name(entry)?;
        if !entry.starts_with("/shared/") {
            return None;
        }
        return Some(Hint::Everyone(Change::Metadata { mailbox: None, entries: vec![entry], origin: 0 }));
    }
    let (account, rest) = line.split_once(' ')?;
    let account = AccountId(account.parse().ok()?);
    if rest == "list" {
        return Some(Hint::Account(account, Change::MailboxList));
    }
    if let Some(rest) = rest.strip_prefix("metadata ") {
        let (mailbox, entry) = rest.split_once(' ')?;
        let mailbox = if mailbox == "-" { None } else { Some(MailboxId(mailbox.parse().ok()?)) };
        let entries = vec![entry_name(entry)?];
        return Some(Hint::Account(account, Change::Metadata { mailbox, entries, origin: 0 }));
    }
    let mut parts = rest.split(' ');
    let mailbox = MailboxId(parts.next()?.parse().ok()?);
    let modseq = parts.next()?.parse().ok()?;
    parts.next().is_none().then_some(Hint::Account(account, Change::Mailbox { mailbox, modseq }))
}

/// Packs lines into as few datagrams of at most [`MAX_DATAGRAM`] as they fit.
fn pack(lines: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in lines.into_iter().filter(|l| l.len() <= MAX_DATAGRAM) {
        match out.last_mut() {
            Some(d) if d.len() + line.len() <= MAX_DATAGRAM => d.push_str(&line),
            _ => out.push(line),
        }
    }
    out
}

/// Sends datagrams to every serving process of a data directory.
pub struct Sender {
    sock: UnixDatagram,
    dir: PathBuf,
    /// The sending process's own socket, skipped.
    own: Option<PathBuf>,
}

impl Sender {
    pub fn new(data_dir: &Path, own: Option<PathBuf>) -> std::io::Result<Sender> {
        let sock = UnixDatagram::unbound()?;
        // A receiver whose queue is full loses the hint rather than stall the
        // sender (a store writer thread).
        sock.set_nonblocking(true)?;
        Ok(Sender { sock, dir: socket_dir(data_dir), own })
    }

    /// Sends each datagram to every socket in `DATA/run/notify.d` but our
    /// own. Never fails; a socket nobody listens on is removed.
    fn send(&self, datagrams: &[String]) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return };
        for path in entries.flatten().map(|e| e.path()) {
            if path.extension().is_none_or(|e| e != "sock") || self.own.as_deref() == Some(path.as_path()) {
                continue;
            }
            for d in datagrams {
                match self.sock.send_to(d.as_bytes(), &path) {
                    Ok(_) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                        // Its process is gone (killed before it could remove it).
                        let _ = std::fs::remove_file(&path);
                        break;
                    }
                    Err(e) => {
                        tracing::debug!(path = %path.display(), error = %e, "change notification not sent");
                        break;
                    }
                }
            }
        }
    }
}

/// Tells the running server (if any) that a mailbox changed. Never fails.
pub fn send(data_dir: &Path, account: AccountId, mailbox: MailboxId, modseq: u64) {
    if let Ok(s) = Sender::new(data_dir, None) {
        s.send(&pack(encode(account, &Change::Mailbox { mailbox, modseq })));
    }
}

/// Tells the running server (if any) that a server-wide `/shared` METADATA
/// entry changed, so NOTIFY ServerMetadataChange reaches its sessions.
/// Never fails.
pub fn send_server_metadata(data_dir: &Path, entry: &str) {
    if let Ok(s) = Sender::new(data_dir, None) {
        s.send(&pack([encode_server_metadata(&entry.to_ascii_lowercase())]));
    }
}

/// The store hook of a worker process: passes what its commits publish to
/// the other processes serving `data_dir` (`own` is this process's socket).
pub fn forward_hook(data_dir: &Path, own: PathBuf) -> std::io::Result<store::CommitHook> {
    let sender = Sender::new(data_dir, Some(own))?;
    Ok(std::sync::Arc::new(move |account: AccountId, changes: &[Change]| {
        sender.send(&pack(changes.iter().flat_map(|c| encode(account, c))));
    }))
}

/// This process's socket; removed when dropped.
pub struct Listener {
    sock: tokio::net::UnixDatagram,
    path: PathBuf,
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Listener {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Passes every change heard on to the account's feed (or every open
    /// account's), until the task is dropped.
    pub async fn listen(self, store: store::Store) {
        let mut buf = vec![0u8; MAX_DATAGRAM];
        loop {
            match self.sock.recv(&mut buf).await {
                Ok(n) => {
                    let hints = decode(&buf[..n]);
                    if hints.is_empty() {
                        tracing::debug!("ignoring a malformed change notification");
                    }
                    for hint in hints {
                        match hint {
                            Hint::Account(account, change) => store.publish_external(account, change),
                            Hint::Everyone(change) => store.publish_all(change),
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "change notification socket failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            }
        }
    }
}

/// Binds this process's socket `DATA/run/notify.d/<pid>.sock` (replacing a
/// stale one of a process that had the same PID).
pub fn bind(data_dir: &Path) -> std::io::Result<Listener> {
    let dir = socket_dir(data_dir);
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{}.sock", std::process::id()));
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let sock = tokio::net::UnixDatagram::bind(&path)?;
    Ok(Listener { sock, path })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(account: AccountId, change: Change) {
        let lines = encode(account, &change);
        let hints: Vec<Hint> = lines.iter().flat_map(|l| decode(l.as_bytes())).collect();
        assert_eq!(hints, vec![Hint::Account(account, change)]);
    }

    #[test]
    fn changes_round_trip() {
        round_trip(AccountId(3), Change::Mailbox { mailbox: MailboxId(7), modseq: 42 });
        round_trip(AccountId(3), Change::MailboxList);
        let entries = vec!["/private/comment with spaces".to_string()];
        round_trip(AccountId(3), Change::Metadata { mailbox: Some(MailboxId(7)), entries: entries.clone(), origin: 0 });
        round_trip(AccountId(3), Change::Metadata { mailbox: None, entries, origin: 0 });
        // A session's origin means nothing in another process: it becomes 0.
        let change =
            Change::Metadata { mailbox: None, entries: vec!["/private/a".into(), "/shared/b".into()], origin: 9 };
        let d = pack(encode(AccountId(1), &change));
        assert_eq!(d.len(), 1);
        assert_eq!(
            decode(d[0].as_bytes()),
            ["/private/a", "/shared/b"]
                .map(|e| Hint::Account(
                    AccountId(1),
                    Change::Metadata { mailbox: None, entries: vec![e.into()], origin: 0 }
                ))
                .into_iter()
                .collect::<Vec<_>>()
        );
        for bad in [
            "",
            "1 2",
            "1 2 x",
            "1 2 3 4",
            "\u{ff}",
            "x list",
            "1 lists",
            "1 metadata 2 /bogus",
            "1 metadata x /private/a",
        ] {
            assert_eq!(decode(bad.as_bytes()), vec![], "{bad:?}");
        }
        // One bad line does not spoil the others.
        assert_eq!(decode(b"junk\n1 list\n").len(), 1);
    }

    #[test]
    fn server_metadata_hints() {
        let m = encode_server_metadata("/shared/comment");
        assert_eq!(
            decode(m.as_bytes()),
            vec![Hint::Everyone(Change::Metadata {
                mailbox: None,
                entries: vec!["/shared/comment".into()],
                origin: 0
            })]
        );
        for bad in ["metadata /private/x\n", "metadata /shared/a b*\n", "metadata \n", "metadata /shared\n"] {
            assert_eq!(decode(bad.as_bytes()), vec![], "{bad:?}");
        }
        assert!(matches!(decode(b"3 7 42\n")[..], [Hint::Account(AccountId(3), _)]));
    }

    #[test]
    fn packing_respects_the_datagram_size() {
        let line = format!("{}\n", "x".repeat(MAX_DATAGRAM / 3));
        let d = pack(vec![line.clone(); 4]);
        assert_eq!(d.len(), 2);
        assert!(d.iter().all(|d| d.len() <= MAX_DATAGRAM));
        assert_eq!(pack([format!("{}\n", "x".repeat(MAX_DATAGRAM))]), Vec::<String>::new());
    }

    /// Two "processes" of one data directory: each hears the other's
    /// forwarded changes, not its own; a dead socket is removed.
    #[tokio::test]
    async fn forwarding_skips_self_and_removes_dead_sockets() {
        let dir = tempfile::tempdir().unwrap();
        let a = bind(dir.path()).unwrap();
        // Another listener, as another worker would have bound it.
        let other = socket_dir(dir.path()).join("other.sock");
        let b = tokio::net::UnixDatagram::bind(&other).unwrap();
        let dead = socket_dir(dir.path()).join("dead.sock");
        drop(std::os::unix::net::UnixDatagram::bind(&dead).unwrap());
        let hook = forward_hook(dir.path(), a.path().to_path_buf()).unwrap();
        hook(AccountId(5), &[Change::MailboxList, Change::Mailbox { mailbox: MailboxId(2), modseq: 9 }]);
        let mut buf = [0u8; 256];
        let n = b.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"5 list\n5 2 9\n");
        assert!(!dead.exists());
        let mut mine = [0u8; 16];
        assert!(a.sock.try_recv(&mut mine).is_err(), "a process does not hear its own changes");
        let path = a.path().to_path_buf();
        drop(a);
        assert!(!path.exists());
    }
}
