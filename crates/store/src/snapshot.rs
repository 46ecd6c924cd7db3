//! What SELECT needs of a mailbox, kept between SELECTs.
//!
//! Opening a mailbox needs its UIDs in order (sequence numbers are positions),
//! the keywords in use (the `FLAGS` response) and the first unseen message
//! (IMAP4rev1's `OK [UNSEEN n]`). Reading them from every row costs tens of
//! milliseconds for a 100 000-message mailbox, so the store keeps one
//! [`MailboxSnapshot`] per mailbox in a process-wide [`SnapshotCache`], shared
//! by every session and account handle of the data directory.
//!
//! A snapshot is only ever used after checking it against the database, inside
//! the same read transaction that would otherwise read every row: when the
//! mailbox's HIGHESTMODSEQ (invariant 2: it grows with every append, flag change
//! and expunge) and UIDVALIDITY are the cached ones, the snapshot is current.
//! When the mailbox moved on, the snapshot is brought forward from the rows and
//! tombstones with a newer MODSEQ (the change feed's own query); only when
//! tombstones it would need were pruned, or the mailbox went backwards (a
//! restored backup), is it rebuilt from every row. Writers in other processes
//! (`postfach deliver`) are therefore seen like any other.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use rusqlite::types::ValueRef;
use rusqlite::{params, Connection};

use crate::types::keywords_from_text;
use crate::{AccountId, Flags, MailboxId, MailboxInfo, MessageSummary, Result};

/// Messages held by all cached snapshots together (13 bytes each without
/// keywords: 26 MiB). Least recently used snapshots are dropped beyond it.
pub const MAX_CACHED_UIDS: usize = 2 << 20;
/// Keywords remembered per snapshot; more are still stored on messages but
/// not listed (the `FLAGS` response stays short).
pub const MAX_SNAPSHOT_KEYWORDS: usize = 512;

/// A mailbox's message list as of one MODSEQ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxSnapshot {
    pub uid_validity: u32,
    /// HIGHESTMODSEQ this snapshot reflects.
    pub modseq: u64,
    pub uid_next: u32,
    /// UIDs of the messages, ascending.
    /// Shared with the sessions that SELECT it (a view copies on its first
    /// change), so SELECT does not copy 4 bytes per message.
    pub uids: Arc<Vec<u32>>,
    /// MODSEQ and system flag bits of each message, parallel to `uids`
    /// (FETCH FLAGS is answered from them without reading rows).
    pub modseqs: Vec<u64>,
    pub flags: Vec<u8>,
    /// Keywords of the messages that have any: UID → the stored text.
    pub message_keywords: HashMap<u32, String>,
    /// Every keyword set on a message since the snapshot was built, sorted
    /// case-insensitively (a keyword stays listed after its last message loses
    /// it, as in Dovecot; RFC 9051 §7.3.5 lets FLAGS list defined flags).
    pub keywords: Vec<String>,
    /// UID of the first message without `\Seen`.
    pub first_unseen: Option<u32>,
}

impl MailboxSnapshot {
    /// UID, MODSEQ and flags of the message at `i` (an index into `uids`).
    pub fn summary(&self, i: usize) -> MessageSummary {
        let keywords = self.message_keywords.get(&self.uids[i]).map(|k| keywords_from_text(k)).unwrap_or_default();
        MessageSummary { uid: self.uids[i], modseq: self.modseqs[i], flags: Flags { system: self.flags[i], keywords } }
    }
}

/// The process-wide cache of [`MailboxSnapshot`]s (one per data directory).
#[derive(Default)]
pub struct SnapshotCache {
    inner: Mutex<CacheInner>,
    /// SORT orders, kept alike (see [`crate::account::sort`]).
    pub(crate) sort_orders: crate::account::sort::OrderCache,
}

#[derive(Default)]
struct CacheInner {
    /// Snapshot and the tick of its last use.
    map: HashMap<(AccountId, MailboxId), (Arc<MailboxSnapshot>, u64)>,
    tick: u64,
    uids: usize,
}

impl SnapshotCache {
    fn get(&self, key: (AccountId, MailboxId)) -> Option<Arc<MailboxSnapshot>> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.tick += 1;
        let tick = inner.tick;
        let (snap, used) = inner.map.get_mut(&key)?;
        *used = tick;
        Some(snap.clone())
    }

    fn put(&self, key: (AccountId, MailboxId), snap: Arc<MailboxSnapshot>) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if snap.uids.len() > MAX_CACHED_UIDS {
            return;
        }
        inner.tick += 1;
        let tick = inner.tick;
        // A concurrent SELECT may have stored a newer one meanwhile.
        if let Some((old, _)) = inner.map.get(&key) {
            if old.uid_validity == snap.uid_validity && old.modseq > snap.modseq {
                return;
            }
        }
        let added = snap.uids.len();
        if let Some((old, _)) = inner.map.insert(key, (snap, tick)) {
            inner.uids -= old.uids.len();
        }
        inner.uids += added;
        while inner.uids > MAX_CACHED_UIDS {
            let Some(oldest) = inner.map.iter().min_by_key(|(_, (_, used))| *used).map(|(k, _)| *k) else { break };
            if let Some((old, _)) = inner.map.remove(&oldest) {
                inner.uids -= old.uids.len();
            }
        }
    }

    /// Forgets a mailbox (deleted).
    pub(crate) fn remove(&self, key: (AccountId, MailboxId)) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((old, _)) = inner.map.remove(&key) {
            inner.uids -= old.uids.len();
        }
    }

    /// UIDs held by all snapshots (for tests and metrics).
    pub fn cached_uids(&self) -> usize {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).uids
    }

    /// The current snapshot of `mb`, read (or checked and brought forward)
    /// inside the caller's read transaction `conn`. `mb` must come from the
    /// same transaction.
    /// The cached snapshot when it is exactly current (nothing to build,
    /// bring forward or copy): what a read may take without leaving the
    /// caller's thread ([`crate::Account::open_mailbox`]).
    pub(crate) fn cached(&self, account: AccountId, mb: &MailboxInfo) -> Option<Arc<MailboxSnapshot>> {
        self.get((account, mb.id))
            .filter(|s| s.uid_validity == mb.uid_validity && s.modseq == mb.highest_modseq && s.uid_next == mb.uid_next)
    }

    pub(crate) fn current(
        &self,
        conn: &Connection,
        account: AccountId,
        mb: &MailboxInfo,
        tombstone_floor: u64,
    ) -> Result<Arc<MailboxSnapshot>> {
        let key = (account, mb.id);
        let snap = match self.get(key) {
            Some(s) if s.uid_validity == mb.uid_validity && s.modseq == mb.highest_modseq => {
                if s.uid_next == mb.uid_next {
                    return Ok(s);
                }
                Arc::new(MailboxSnapshot { uid_next: mb.uid_next, ..(*s).clone() })
            }
            Some(s)
                if s.uid_validity == mb.uid_validity && s.modseq < mb.highest_modseq && s.modseq >= tombstone_floor =>
            {
                Arc::new(forward(conn, &s, mb)?)
            }
            _ => Arc::new(build(conn, mb)?),
        };
        self.put(key, snap.clone());
        Ok(snap)
    }
}

/// Reads the snapshot from every row (the covering index `messages_summary`).
fn build(conn: &Connection, mb: &MailboxInfo) -> Result<MailboxSnapshot> {
    let mut stmt =
        conn.prepare_cached("SELECT uid, modseq, flags, keywords FROM messages WHERE mailbox_id = ?1 ORDER BY uid")?;
    let mut rows = stmt.query([mb.id.0])?;
    let (mut uids, mut modseqs, mut flags) = (Vec::new(), Vec::new(), Vec::new());
    let mut message_keywords = HashMap::new();
    let mut keywords = BTreeSet::new();
    let mut first_unseen = None;
    while let Some(r) = rows.next()? {
        let uid = r.get::<_, i64>(0)? as u32;
        let f = (r.get::<_, i64>(2)? & 0xff) as u8;
        uids.push(uid);
        modseqs.push(r.get::<_, i64>(1)? as u64);
        flags.push(f);
        if first_unseen.is_none() && f & Flags::SEEN == 0 {
            first_unseen = Some(uid);
        }
        let kw = text_of(r.get_ref(3)?);
        if !kw.is_empty() {
            add_keywords(&mut keywords, kw);
            message_keywords.insert(uid, kw.to_string());
        }
    }
    Ok(MailboxSnapshot {
        uid_validity: mb.uid_validity,
        modseq: mb.highest_modseq,
        uid_next: mb.uid_next,
        uids: Arc::new(uids),
        modseqs,
        flags,
        message_keywords,
        keywords: sorted_keywords(keywords),
        first_unseen,
    })
}

/// Brings `old` forward to `mb.highest_modseq` from the rows and tombstones
/// changed since `old.modseq` (indexes `messages_modseq`, `expunged_modseq`).
fn forward(conn: &Connection, old: &MailboxSnapshot, mb: &MailboxInfo) -> Result<MailboxSnapshot> {
    let since = old.modseq.min(i64::MAX as u64) as i64;
    let mut gone: Vec<u32> = {
        let mut stmt = conn.prepare_cached("SELECT uid FROM expunged WHERE mailbox_id = ?1 AND modseq > ?2")?;
        let rows = stmt.query_map(params![mb.id.0, since], |r| r.get::<_, i64>(0).map(|u| u as u32))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    gone.sort_unstable();
    let (mut uids, mut modseqs, mut flags) = if gone.is_empty() {
        (old.uids.to_vec(), old.modseqs.clone(), old.flags.clone())
    } else {
        let keep: Vec<usize> = (0..old.uids.len()).filter(|&i| gone.binary_search(&old.uids[i]).is_err()).collect();
        (
            keep.iter().map(|&i| old.uids[i]).collect(),
            keep.iter().map(|&i| old.modseqs[i]).collect(),
            keep.iter().map(|&i| old.flags[i]).collect(),
        )
    };
    let mut message_keywords = old.message_keywords.clone();
    for u in &gone {
        message_keywords.remove(u);
    }
    let mut keywords: BTreeSet<(String, String)> =
        old.keywords.iter().map(|k| (k.to_ascii_lowercase(), k.clone())).collect();
    let last = old.uids.last().copied().unwrap_or(0);
    // The first unseen among the changed rows, and whether the old first
    // unseen is one of them.
    let mut unseen_changed: Option<u32> = None;
    let mut first_changed = false;
    {
        let mut stmt = conn.prepare_cached(
            "SELECT uid, modseq, flags, keywords FROM messages WHERE mailbox_id = ?1 AND modseq > ?2 ORDER BY uid",
        )?;
        let mut rows = stmt.query(params![mb.id.0, since])?;
        while let Some(r) = rows.next()? {
            let uid = r.get::<_, i64>(0)? as u32;
            let modseq = r.get::<_, i64>(1)? as u64;
            let f = (r.get::<_, i64>(2)? & 0xff) as u8;
            // UIDs only grow: a UID above the old last one is new.
            if uid > last {
                uids.push(uid);
                modseqs.push(modseq);
                flags.push(f);
            } else if let Ok(i) = uids.binary_search(&uid) {
                modseqs[i] = modseq;
                flags[i] = f;
            }
            first_changed |= Some(uid) == old.first_unseen;
            if unseen_changed.is_none() && f & Flags::SEEN == 0 {
                unseen_changed = Some(uid);
            }
            let kw = text_of(r.get_ref(3)?);
            if kw.is_empty() {
                message_keywords.remove(&uid);
            } else {
                add_keywords(&mut keywords, kw);
                message_keywords.insert(uid, kw.to_string());
            }
        }
    }
    // Messages that did not change kept their flags: below the old first
    // unseen all are seen. If that one changed or went, the next unseen
    // message after it is looked up.
    let unchanged = match old.first_unseen {
        Some(f) if first_changed || gone.binary_search(&f).is_ok() => {
            let mut stmt = conn.prepare_cached(
                "SELECT uid FROM messages WHERE mailbox_id = ?1 AND uid > ?2 AND (flags & 1) = 0 ORDER BY uid LIMIT 1",
            )?;
            let mut rows = stmt.query(params![mb.id.0, f])?;
            match rows.next()? {
                Some(r) => Some(r.get::<_, i64>(0)? as u32),
                None => None,
            }
        }
        other => other,
    };
    let first_unseen = match (unchanged, unseen_changed) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    Ok(MailboxSnapshot {
        uid_validity: mb.uid_validity,
        modseq: mb.highest_modseq,
        uid_next: mb.uid_next,
        uids: Arc::new(uids),
        modseqs,
        flags,
        message_keywords,
        keywords: sorted_keywords(keywords),
        first_unseen,
    })
}

/// A TEXT column without allocating (`keywords` is always UTF-8 text).
fn text_of(v: ValueRef<'_>) -> &str {
    match v {
        ValueRef::Text(t) => std::str::from_utf8(t).unwrap_or(""),
        _ => "",
    }
}

fn add_keywords(set: &mut BTreeSet<(String, String)>, text: &str) {
    if set.len() >= MAX_SNAPSHOT_KEYWORDS {
        return;
    }
    for k in text.split(' ').filter(|k| !k.is_empty()) {
        set.insert((k.to_ascii_lowercase(), k.to_string()));
    }
}

/// One spelling per keyword (case-insensitively), sorted.
fn sorted_keywords(set: BTreeSet<(String, String)>) -> Vec<String> {
    let mut last: Option<String> = None;
    let mut out = Vec::with_capacity(set.len());
    for (lower, k) in set {
        if last.as_deref() != Some(lower.as_str()) {
            out.push(k);
            last = Some(lower);
        }
    }
    out
}
