//! GETMETADATA and SETMETADATA (RFC 5464), and the entries LIST returns with
//! `RETURN (METADATA (…))` (RFC 9590).
//!
//! Where entries live (decided for postfach, see docs/rfc-status.md):
//! - Mailbox entries, `/private/…` and `/shared/…`, are stored in the owning
//!   account's database (`metadata` table). Without ACLs only the owner can
//!   see a mailbox, so "shared" has one reader today; with ACLs, `/shared`
//!   entries will be what other users with access see.
//! - Server entries (mailbox name `""`): `/private/…` are per account (the
//!   same table, mailbox 0), e.g. Delta Chat's `/private/devicetoken`;
//!   `/shared/…` are global, in the directory, and read-only for IMAP users
//!   (RFC 5464 §3.3 lets servers restrict them): the administrator sets them
//!   with `postfach metadata set`. `/shared/admin` is `[metadata] admin`.
//!
//! Limits: `[metadata] max_entry_size` per value (`NO [METADATA MAXSIZE n]`)
//! and `max_entries` per mailbox and per account's server entries
//! (`NO [METADATA TOOMANY]`), RFC 5464 §4.3.

use std::sync::atomic::{AtomicU64, Ordering};

use imap_proto::{Code, Data, Literal, MailboxName, MetadataDepth, MetadataOptions};
use store::account::metadata::Depth;
use store::{MailboxId, MailboxInfo};

use super::{Done, Session};
use crate::imap::error::{ImapError, Result};

/// The server entry that `[metadata] admin` provides (RFC 5464 §3.2.1.1).
const ADMIN: &str = "/shared/admin";

static NEXT_ORIGIN: AtomicU64 = AtomicU64::new(1);

/// A token unique in this process, naming the connection whose METADATA
/// changes go on the feed (so NOTIFY does not tell a client its own changes).
pub fn new_origin() -> u64 {
    NEXT_ORIGIN.fetch_add(1, Ordering::Relaxed)
}

/// `resp-text-code =/ "METADATA" SP …` (RFC 5464 §5).
fn metadata_code(text: String) -> Code {
    Code::Other("METADATA".into(), Some(text))
}

fn depth(d: MetadataDepth) -> Depth {
    match d {
        MetadataDepth::Zero => Depth::Zero,
        MetadataDepth::One => Depth::One,
        MetadataDepth::Infinity => Depth::Infinity,
    }
}

/// Whether `entry` is `name` or below it within `depth` (all lower-case).
fn within(entry: &str, name: &str, depth: Depth) -> bool {
    let Some(rest) = entry.strip_prefix(name) else { return false };
    match depth {
        _ if rest.is_empty() => true,
        Depth::Zero => false,
        Depth::One => rest.starts_with('/') && !rest[1..].contains('/'),
        Depth::Infinity => rest.starts_with('/'),
    }
}

fn is_shared(entry: &str) -> bool {
    entry.get(..7).is_some_and(|p| p.eq_ignore_ascii_case("/shared"))
}

/// What GETMETADATA (or LIST) answers for one mailbox or the server: the
/// entries in request order, and the size of the largest value left out by
/// MAXSIZE (for `[METADATA LONGENTRIES n]`).
pub struct Found {
    pub entries: Vec<(String, Option<Vec<u8>>)>,
    pub longest_skipped: Option<u64>,
}

impl Session {
    /// RFC 5464 §4.2 GETMETADATA; §4.2.1 MAXSIZE (`OK [METADATA LONGENTRIES n]`);
    /// §4.2.2 DEPTH. The mailbox `""` is the server; any other mailbox must
    /// exist (`NO [NONEXISTENT]`, §3.3). A requested entry that is not set
    /// (and has nothing below it within DEPTH) is returned as NIL.
    pub(super) async fn cmd_getmetadata(
        &mut self,
        mailbox: &MailboxName,
        options: MetadataOptions,
        entries: Vec<String>,
    ) -> Result<Done> {
        let target = self.metadata_target(mailbox).await?;
        let found = self.read_metadata(target.as_ref().map(|m| m.id), &options, &entries).await?;
        if !found.entries.is_empty() {
            let wire = target.map(|m| self.wire_name(&m.name)).unwrap_or_default();
            self.data(Data::Metadata { mailbox: wire, entries: found.entries });
        }
        Ok(match found.longest_skipped {
            Some(n) => Done::with_code(metadata_code(format!("LONGENTRIES {n}")), "GETMETADATA completed"),
            None => Done::ok("GETMETADATA completed"),
        })
    }

    /// RFC 5464 §4.3 SETMETADATA: sets the values, NIL removes. All or
    /// nothing: a value over `max_entry_size` is `NO [METADATA MAXSIZE n]`,
    /// more than `max_entries` entries `NO [METADATA TOOMANY]`, and server
    /// `/shared` entries are the administrator's (`NO [NOPERM]`).
    pub(super) async fn cmd_setmetadata(
        &mut self,
        mailbox: &MailboxName,
        entries: Vec<(String, Option<Literal>)>,
    ) -> Result<Done> {
        let limits = self.shared.config.metadata.clone();
        let target = self.metadata_target(mailbox).await?;
        let mut values = Vec::with_capacity(entries.len());
        for (entry, value) in entries {
            if target.is_none() && is_shared(&entry) {
                let text = if entry.eq_ignore_ascii_case(ADMIN) {
                    "/shared/admin is read-only (RFC 5464 §3.2.1.1)".to_string()
                } else {
                    format!("server /shared entries are set by the administrator (postfach metadata set), not {entry}")
                };
                return Err(ImapError::no(Code::NoPerm, text));
            }
            let bytes = match value {
                None => None,
                Some(v) if v.len() > limits.max_entry_size as u64 => {
                    return Err(ImapError::no(
                        metadata_code(format!("MAXSIZE {}", limits.max_entry_size)),
                        format!("the value of {entry} is larger than {} octets", limits.max_entry_size),
                    ))
                }
                Some(Literal::Memory(v)) => Some(v),
                Some(Literal::File { path, .. }) => Some(tokio::fs::read(&path).await?),
            };
            values.push((entry, bytes));
        }
        let account = self.account()?;
        account.set_metadata(target.map(|m| m.id), values, limits.max_entries, self.origin).await.map_err(
            |e| match e {
                store::Error::TooMany(_) => ImapError::no(
                    metadata_code("TOOMANY".into()),
                    format!("at most {} entries per mailbox (and on the server); nothing was set", limits.max_entries),
                ),
                e => e.into(),
            },
        )?;
        Ok(Done::ok("SETMETADATA completed"))
    }

    /// `None` for the server (`""`), else the mailbox, which must exist.
    async fn metadata_target(&self, mailbox: &MailboxName) -> Result<Option<MailboxInfo>> {
        if mailbox.0.is_empty() {
            return Ok(None);
        }
        self.find_mailbox(mailbox).await.map(Some)
    }

    /// Reads the requested entries of a mailbox (`None`: the server), applies
    /// MAXSIZE, and fills in NIL for names with nothing set.
    pub(super) async fn read_metadata(
        &self,
        mailbox: Option<MailboxId>,
        options: &MetadataOptions,
        names: &[String],
    ) -> Result<Found> {
        let account = self.account()?;
        let depth = depth(options.depth);
        let mut rows = Vec::new();
        match mailbox {
            Some(id) => rows = account.metadata(Some(id), names.to_vec(), depth).await?,
            None => {
                let (shared, private): (Vec<String>, Vec<String>) = names.iter().cloned().partition(|n| is_shared(n));
                if !private.is_empty() {
                    rows = account.metadata(None, private, depth).await?;
                }
                if !shared.is_empty() {
                    let store = self.shared.store.clone();
                    let lower: Vec<String> = shared.iter().map(|n| n.to_ascii_lowercase()).collect();
                    let names = lower.clone();
                    rows.extend(
                        tokio::task::spawn_blocking(move || store.server_metadata(&names, depth))
                            .await
                            .map_err(|e| ImapError::Internal(e.to_string()))??,
                    );
                    if let Some(admin) = &self.shared.config.metadata.admin {
                        if lower.iter().any(|n| within(ADMIN, n, depth)) {
                            rows.push((ADMIN.to_string(), admin.as_bytes().to_vec()));
                        }
                    }
                }
            }
        }
        let mut found = Found { entries: Vec::new(), longest_skipped: None };
        for name in names {
            let name = name.to_ascii_lowercase();
            let mut any = false;
            for (entry, value) in rows.iter().filter(|(e, _)| within(e, &name, depth)) {
                any = true;
                if found.entries.iter().any(|(e, _)| e == entry) {
                    continue;
                }
                let len = value.len() as u64;
                if options.max_size.is_some_and(|max| len > max) {
                    found.longest_skipped = Some(found.longest_skipped.unwrap_or(0).max(len));
                    continue;
                }
                found.entries.push((entry.clone(), Some(value.clone())));
            }
            if !any && !found.entries.iter().any(|(e, _)| *e == name) {
                found.entries.push((name, None));
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_matching() {
        assert!(within("/private/a", "/private/a", Depth::Zero));
        assert!(!within("/private/a/b", "/private/a", Depth::Zero));
        assert!(within("/private/a/b", "/private/a", Depth::One));
        assert!(!within("/private/a/b/c", "/private/a", Depth::One));
        assert!(within("/private/a/b/c", "/private/a", Depth::Infinity));
        assert!(!within("/private/ab", "/private/a", Depth::Infinity), "a sibling is not below");
        assert!(within("/shared/admin", "/shared", Depth::One));
    }
}
