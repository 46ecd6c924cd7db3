//! METADATA (RFC 5464) of one account (migration `account_0008_metadata.sql`):
//! the annotations of its mailboxes and its own server annotations
//! (`/private/…` entries of the mailbox name `""`).
//!
//! Entry names are case-insensitive (RFC 5464 §3.2): the store keeps them
//! lower-case, and callers pass names already checked by the codec. The size
//! of one value is the caller's limit; the number of entries per mailbox (or
//! of server entries) is checked here, inside the write, so that concurrent
//! writers cannot pass it together.

use rusqlite::{params, Connection};

use super::{mailbox_by_id, Account};
use crate::{Change, Error, MailboxId, Result};

/// How far below a requested entry to look (RFC 5464 §4.2.2 DEPTH).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    Zero,
    One,
    Infinity,
}

/// The `mailbox_id` of server entries.
const SERVER: i64 = 0;

fn key(mailbox: Option<MailboxId>) -> i64 {
    mailbox.map_or(SERVER, |m| m.0)
}

/// SQL condition "`entry` is the name in parameter `p`, or below it" (`'0'`
/// is the character after `/`, so the range holds exactly `name/…`).
pub(crate) fn entry_or_below(p: &str) -> String {
    format!("(entry = {p} OR (entry > {p} || '/' AND entry < {p} || '0'))")
}

/// For each name in `names`, the rows `rows_at_or_below(name)` returns that
/// lie within `depth` of it; lower-case names, sorted per name, no duplicates.
pub(crate) fn select_entries(
    names: &[String],
    depth: Depth,
    mut rows_at_or_below: impl FnMut(&str) -> Result<Vec<(String, Vec<u8>)>>,
) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    for name in names {
        let name = name.to_ascii_lowercase();
        let base = name.matches('/').count();
        for (entry, value) in rows_at_or_below(&name)? {
            let below = entry.matches('/').count().saturating_sub(base);
            let wanted = match depth {
                Depth::Zero => below == 0,
                Depth::One => below <= 1,
                Depth::Infinity => true,
            };
            if wanted && !out.iter().any(|(e, _)| *e == entry) {
                out.push((entry, value));
            }
        }
    }
    Ok(out)
}

impl Account {
    /// The entries of `mailbox` (`None`: this account's server entries) named
    /// in `names` or below them within `depth`, lower-case, sorted per name.
    pub async fn metadata(
        &self,
        mailbox: Option<MailboxId>,
        names: Vec<String>,
        depth: Depth,
    ) -> Result<Vec<(String, Vec<u8>)>> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT entry, value FROM metadata WHERE mailbox_id = ?1 AND {} ORDER BY entry",
                entry_or_below("?2")
            ))?;
            select_entries(&names, depth, |name| {
                let rows = stmt.query_map(params![key(mailbox), name], |r| Ok((r.get(0)?, r.get(1)?)))?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
        })
        .await
    }

    /// Sets (`Some`) or removes (`None`) entries of `mailbox` (`None`: this
    /// account's server entries), all or none (RFC 5464 §4.3). Fails with
    /// [`Error::NoSuchMailbox`] if the mailbox is gone and with
    /// [`Error::TooMany`] if the entries would number more than
    /// `max_entries` (removing entries is always allowed). Publishes
    /// [`Change::Metadata`] with `origin` for the entries that changed.
    pub async fn set_metadata(
        &self,
        mailbox: Option<MailboxId>,
        entries: Vec<(String, Option<Vec<u8>>)>,
        max_entries: usize,
        origin: u64,
    ) -> Result<()> {
        self.write(move |c, changes| {
            if let Some(id) = mailbox {
                mailbox_by_id(c, id)?;
            }
            let k = key(mailbox);
            let count = |c: &Connection| -> Result<usize> {
                Ok(c.query_row("SELECT count(*) FROM metadata WHERE mailbox_id = ?1", [k], |r| r.get::<_, i64>(0))?
                    as usize)
            };
            let before = count(c)?;
            let mut changed = Vec::new();
            for (entry, value) in entries {
                let entry = entry.to_ascii_lowercase();
                let n = match &value {
                    Some(v) => c.execute(
                        "INSERT INTO metadata (mailbox_id, entry, value) VALUES (?1, ?2, ?3)
                         ON CONFLICT (mailbox_id, entry) DO UPDATE SET value = excluded.value
                         WHERE value IS NOT excluded.value",
                        params![k, entry, v],
                    )?,
                    None => {
                        c.execute("DELETE FROM metadata WHERE mailbox_id = ?1 AND entry = ?2", params![k, entry])?
                    }
                };
                if n > 0 && !changed.contains(&entry) {
                    changed.push(entry);
                }
            }
            let after = count(c)?;
            if after > before && after > max_entries {
                return Err(Error::TooMany(format!("METADATA entries (limit {max_entries})")));
            }
            if !changed.is_empty() {
                changes.push(Change::Metadata { mailbox, entries: changed, origin });
            }
            Ok(())
        })
        .await
    }
}
