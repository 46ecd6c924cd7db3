//! The cross-process change feed (DESIGN.md §3): how a message stored by
//! `postfach deliver` (another process) reaches the IDLE clients of a running
//! server within a second.
//!
//! The server binds a Unix datagram socket at `DATA/run/notify.sock`. After
//! its transaction committed, `deliver` sends one datagram
//! `"<account id> <mailbox id> <modseq>\n"` there and ignores every error (no
//! server running is fine: the next session reads the store anyway). The
//! server passes the datagram on to the account's in-process feed if a
//! session has the account open ([`store::Store::publish_external`]); the
//! sessions then read what changed from the store, as they do for their own
//! process's changes. A datagram is only a hint — a forged one makes sessions
//! re-read the store, nothing more — so the socket needs no authentication.
//!
//! `postfach metadata set|unset` sends `"metadata <entry>\n"` the same way:
//! every session in the server hears of the server-wide entry (NOTIFY
//! ServerMetadataChange, RFC 5465 §5.7).

use std::path::{Path, PathBuf};

use store::{AccountId, Change, MailboxId};

/// `DATA/run/notify.sock`.
pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join("run").join("notify.sock")
}

fn encode(account: AccountId, mailbox: MailboxId, modseq: u64) -> String {
    format!("{} {} {}\n", account.0, mailbox.0, modseq)
}

/// A server-wide METADATA entry changed (`postfach metadata set|unset`).
fn encode_server_metadata(entry: &str) -> String {
    format!("metadata {entry}\n")
}

/// What a datagram asks for: one account's change, or a change for all.
#[derive(Debug, PartialEq, Eq)]
enum Hint {
    Account(AccountId, Change),
    Everyone(Change),
}

/// Largest datagram read; longer ones (very long entry names) are dropped.
const MAX_DATAGRAM: usize = 1024;

fn decode_hint(msg: &[u8]) -> Option<Hint> {
    let text = std::str::from_utf8(msg).ok()?;
    if let Some(entry) = text.strip_prefix("metadata ") {
        let entry = entry.trim_end();
        imap_proto::check_metadata_entry(entry, false).ok()?;
        if !entry.starts_with("/shared/") {
            return None;
        }
        // origin 0 is no session's, so every session that asked is told.
        return Some(Hint::Everyone(Change::Metadata { mailbox: None, entries: vec![entry.to_string()], origin: 0 }));
    }
    decode(msg).map(|(a, c)| Hint::Account(a, c))
}

/// Tells a running server (if any) that a server-wide `/shared` METADATA
/// entry changed, so NOTIFY ServerMetadataChange reaches its sessions.
/// Never fails.
pub fn send_server_metadata(data_dir: &Path, entry: &str) {
    let msg = encode_server_metadata(&entry.to_ascii_lowercase());
    if msg.len() > MAX_DATAGRAM {
        return;
    }
    let Ok(sock) = std::os::unix::net::UnixDatagram::unbound() else { return };
    let _ = sock.send_to(msg.as_bytes(), socket_path(data_dir));
}

fn decode(msg: &[u8]) -> Option<(AccountId, Change)> {
    let text = std::str::from_utf8(msg).ok()?;
    let mut parts = text.split_whitespace();
    let account = AccountId(parts.next()?.parse().ok()?);
    let mailbox = MailboxId(parts.next()?.parse().ok()?);
    let modseq = parts.next()?.parse().ok()?;
    parts.next().is_none().then_some((account, Change::Mailbox { mailbox, modseq }))
}

/// Tells a running server (if any) that a mailbox changed. Never fails.
pub fn send(data_dir: &Path, account: AccountId, mailbox: MailboxId, modseq: u64) {
    let Ok(sock) = std::os::unix::net::UnixDatagram::unbound() else { return };
    let _ = sock.send_to(encode(account, mailbox, modseq).as_bytes(), socket_path(data_dir));
}

/// Binds the server's socket (replacing a stale one from a previous run).
pub fn bind(data_dir: &Path) -> std::io::Result<tokio::net::UnixDatagram> {
    let path = socket_path(data_dir);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    tokio::net::UnixDatagram::bind(&path)
}

/// Passes every datagram on to the account's feed, until the task is dropped.
pub async fn listen(sock: tokio::net::UnixDatagram, store: store::Store) {
    let mut buf = [0u8; MAX_DATAGRAM];
    loop {
        match sock.recv(&mut buf).await {
            Ok(n) => match decode_hint(&buf[..n]) {
                Some(Hint::Account(account, change)) => store.publish_external(account, change),
                Some(Hint::Everyone(change)) => store.publish_all(change),
                None => tracing::debug!("ignoring a malformed change notification"),
            },
            Err(e) => {
                tracing::warn!(error = %e, "change notification socket failed");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let m = encode(AccountId(3), MailboxId(7), 42);
        assert_eq!(decode(m.as_bytes()), Some((AccountId(3), Change::Mailbox { mailbox: MailboxId(7), modseq: 42 })));
        for bad in ["", "1 2", "1 2 x", "1 2 3 4", "\u{ff}"] {
            assert_eq!(decode(bad.as_bytes()), None, "{bad:?}");
        }
    }

    #[test]
    fn server_metadata_hints() {
        let m = encode_server_metadata("/shared/comment");
        assert_eq!(
            decode_hint(m.as_bytes()),
            Some(Hint::Everyone(Change::Metadata {
                mailbox: None,
                entries: vec!["/shared/comment".into()],
                origin: 0
            }))
        );
        for bad in ["metadata /private/x\n", "metadata /shared/a b*\n", "metadata \n", "metadata /shared\n"] {
            assert_eq!(decode_hint(bad.as_bytes()), None, "{bad:?}");
        }
        assert!(matches!(decode_hint(b"3 7 42\n"), Some(Hint::Account(AccountId(3), _))));
    }
}
