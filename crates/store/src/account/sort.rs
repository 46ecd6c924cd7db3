//! SORT keys (issue #6, migration `account_0012_sort_keys.sql`).
//!
//! Every message gets a row of precomputed sort keys in the narrow
//! `sort_keys` table when it is stored: ARRIVAL, DATE and SIZE from the
//! message itself, the string keys ([`SortKeys`]) from the IMAP layer, which
//! owns RFC 5256's base subject and the case folding. Each key has an index
//! `(mailbox_id, key, uid)`, so [`Account::sort_order`] reads a mailbox's
//! UIDs in key order without touching a message row; equal keys come out by
//! UID, i.e. by sequence number (RFC 5256 §3).
//!
//! A message without a row (stored before the table existed, or stored
//! without [`crate::MessageMeta::sort`]) is simply absent from
//! [`Account::sort_order`]; the caller notices and gives it its keys with
//! [`Account::set_sort_keys`].

use std::sync::{Arc, Mutex};

use rusqlite::{params, types::ValueRef, Connection};

use super::{mailbox_by_id, Account};
use crate::{AccountId, MailboxId, MessageMeta, Result};

/// The string keys of one message, case-folded by the IMAP layer so that
/// SQLite's binary (code point) order is the collation's order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SortKeys {
    /// SUBJECT: the base subject (RFC 5256 §2.1).
    pub subject: String,
    /// FROM, TO, CC: the `addr-mailbox` of the first address (RFC 5256 §3).
    pub from: String,
    pub to: String,
    pub cc: String,
    /// DISPLAYFROM, DISPLAYTO (RFC 5957 §3).
    pub display_from: String,
    pub display_to: String,
}

/// A key [`Account::sort_order`] orders by (RFC 5256 §3, RFC 5957).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortColumn {
    Arrival,
    Date,
    Size,
    Subject,
    From,
    To,
    Cc,
    DisplayFrom,
    DisplayTo,
}

impl SortColumn {
    fn column(self) -> &'static str {
        match self {
            SortColumn::Arrival => "arrival",
            SortColumn::Date => "date",
            SortColumn::Size => "size",
            SortColumn::Subject => "subject",
            SortColumn::From => "from_addr",
            SortColumn::To => "to_addr",
            SortColumn::Cc => "cc_addr",
            SortColumn::DisplayFrom => "display_from",
            SortColumn::DisplayTo => "display_to",
        }
    }
}

/// Stores the keys of a message just inserted, if it comes with string keys.
/// The sent date is the `Date:` header, else INTERNALDATE (RFC 5256 §2.2).
pub(super) fn insert_keys(
    c: &Connection,
    mailbox: MailboxId,
    uid: u32,
    meta: &MessageMeta,
    internal_date: i64,
    size: u64,
) -> Result<()> {
    let Some(k) = &meta.sort else { return Ok(()) };
    let mut stmt = c.prepare_cached(
        "INSERT INTO sort_keys (mailbox_id, uid, arrival, date, size, subject, from_addr, to_addr, cc_addr,
                                display_from, display_to)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    let date = meta.sent_date.unwrap_or(internal_date);
    stmt.execute(params![
        mailbox.0,
        uid,
        internal_date,
        date,
        size as i64,
        k.subject,
        k.from,
        k.to,
        k.cc,
        k.display_from,
        k.display_to
    ])?;
    Ok(())
}

/// Gives the copy `(to, new_uid)` of message `(from, uid)` the same keys
/// (COPY and MOVE keep INTERNALDATE, size and content).
pub(super) fn copy_keys(c: &Connection, from: MailboxId, uid: u32, to: MailboxId, new_uid: u32) -> Result<()> {
    let mut stmt = c.prepare_cached(
        "INSERT INTO sort_keys (mailbox_id, uid, arrival, date, size, subject, from_addr, to_addr, cc_addr,
                                display_from, display_to)
         SELECT ?3, ?4, arrival, date, size, subject, from_addr, to_addr, cc_addr, display_from, display_to
         FROM sort_keys WHERE mailbox_id = ?1 AND uid = ?2",
    )?;
    stmt.execute(params![from.0, uid, to.0, new_uid])?;
    Ok(())
}

/// The mailbox's UIDs in ascending order of `column`, each with its dense
/// rank (equal keys, equal rank), read from the column's index alone.
fn ranks(c: &Connection, mailbox: MailboxId, column: SortColumn) -> Result<Vec<(u32, u32)>> {
    let col = column.column();
    let mut stmt =
        c.prepare_cached(&format!("SELECT uid, {col} FROM sort_keys WHERE mailbox_id = ?1 ORDER BY {col}, uid"))?;
    let mut rows = stmt.query([mailbox.0])?;
    let mut out = Vec::new();
    let (mut rank, mut last_int, mut last_text): (u32, Option<i64>, Option<Vec<u8>>) = (0, None, None);
    while let Some(r) = rows.next()? {
        let uid = r.get::<_, i64>(0)? as u32;
        let same = match r.get_ref(1)? {
            ValueRef::Integer(v) => last_int.replace(v) == Some(v),
            ValueRef::Text(v) => {
                let same = last_text.as_deref() == Some(v);
                if !same {
                    last_text = Some(v.to_vec());
                }
                same
            }
            _ => false,
        };
        if !same && !out.is_empty() {
            rank += 1;
        }
        out.push((uid, rank));
    }
    Ok(out)
}

/// The UIDs of the mailbox's messages that have keys, in the order of
/// `criteria`, read from the keys' indexes.
fn compute_order(c: &Connection, mailbox: MailboxId, criteria: &[(SortColumn, bool)]) -> Result<Vec<u32>> {
    if let [(column, false)] = criteria[..] {
        let col = column.column();
        let mut stmt =
            c.prepare_cached(&format!("SELECT uid FROM sort_keys WHERE mailbox_id = ?1 ORDER BY {col}, uid"))?;
        let rows = stmt.query_map([mailbox.0], |r| r.get::<_, i64>(0).map(|u| u as u32))?;
        return Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?);
    }
    // Several keys, or REVERSE: each key's rank per message, one index scan
    // per key (one read transaction: the same messages each time).
    let mut per_key: Vec<Vec<(u32, u32)>> = Vec::with_capacity(criteria.len());
    for &(column, _) in criteria {
        let mut r = ranks(c, mailbox, column)?;
        r.sort_unstable();
        per_key.push(r);
    }
    let Some(first) = per_key.first() else { return Ok(Vec::new()) };
    let uids: Vec<u32> = first.iter().map(|&(uid, _)| uid).collect();
    // rank[i * n + j]: the rank of message i for key j.
    let n = per_key.len();
    let mut rank = vec![0u32; uids.len() * n];
    for (j, key) in per_key.iter().enumerate() {
        for (i, uid) in uids.iter().enumerate() {
            rank[i * n + j] = key.binary_search_by_key(uid, |&(u, _)| u).map_or(0, |p| key[p].1);
        }
    }
    let mut order: Vec<usize> = (0..uids.len()).collect();
    order.sort_unstable_by(|&a, &b| {
        criteria
            .iter()
            .enumerate()
            .map(|(j, &(_, reverse))| {
                let o = rank[a * n + j].cmp(&rank[b * n + j]);
                if reverse {
                    o.reverse()
                } else {
                    o
                }
            })
            .find(|o| o.is_ne())
            .unwrap_or_else(|| uids[a].cmp(&uids[b]))
    });
    Ok(order.into_iter().map(|i| uids[i]).collect())
}

/// Orders kept, and UIDs in them (4 MiB), for all accounts together; the
/// least recently used go first.
const CACHED_ORDERS: usize = 32;
const CACHED_ORDER_UIDS: usize = 1 << 20;

/// The sort orders computed last (issue #6: a web client sorts the same
/// large mailbox for every page it shows), kept with the mailbox snapshots
/// ([`crate::snapshot::SnapshotCache`]) when an account's last session goes.
///
/// Keys never change, so an order stays right until messages come or go:
/// an entry is used while the mailbox's UIDNEXT is the one it was computed
/// at (every APPEND, COPY and MOVE into the mailbox raises it), after
/// removing the UIDs whose tombstones are newer than the entry (EXPUNGE,
/// MOVE out), unless those may have been pruned. Both are checked in the
/// read transaction that would otherwise compute the order, so writers in
/// other processes are seen too. Keys added by [`Account::set_sort_keys`]
/// change no MODSEQ: that bumps `generation` and drops the mailbox's entries.
#[derive(Default)]
pub(crate) struct OrderCache {
    inner: Mutex<CacheInner>,
}

#[derive(Default)]
struct CacheInner {
    generation: u64,
    /// Least recently used first.
    entries: Vec<CachedOrder>,
}

struct CachedOrder {
    account: AccountId,
    mailbox: MailboxId,
    criteria: Vec<(SortColumn, bool)>,
    uid_validity: u32,
    uid_next: u32,
    modseq: u64,
    uids: Arc<Vec<u32>>,
}

impl OrderCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, CacheInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The order of `criteria` in `mailbox`, inside the read transaction `c`.
    fn order(
        &self,
        c: &Connection,
        account: AccountId,
        mailbox: MailboxId,
        criteria: &[(SortColumn, bool)],
    ) -> Result<Arc<Vec<u32>>> {
        let generation = self.lock().generation;
        let mb = mailbox_by_id(c, mailbox)?;
        let floor: i64 =
            c.query_row("SELECT tombstone_floor FROM mailboxes WHERE id = ?1", [mailbox.0], |r| r.get(0))?;
        let cached = {
            let mut inner = self.lock();
            let i = inner.entries.iter().position(|e| e.is(account, mailbox, criteria));
            i.map(|i| inner.entries.remove(i))
        };
        let fresh = match cached {
            Some(e)
                if e.uid_validity == mb.uid_validity
                    && e.uid_next == mb.uid_next
                    && e.modseq <= mb.highest_modseq
                    && e.modseq >= floor as u64 =>
            {
                let uids = if e.modseq == mb.highest_modseq {
                    e.uids
                } else {
                    let mut stmt =
                        c.prepare_cached("SELECT uid FROM expunged WHERE mailbox_id = ?1 AND modseq > ?2")?;
                    let gone = stmt.query_map(params![mailbox.0, e.modseq as i64], |r| r.get::<_, i64>(0))?;
                    let mut gone = gone.map(|u| u.map(|u| u as u32)).collect::<rusqlite::Result<Vec<_>>>()?;
                    gone.sort_unstable();
                    if gone.is_empty() {
                        e.uids
                    } else {
                        Arc::new(e.uids.iter().copied().filter(|u| gone.binary_search(u).is_err()).collect())
                    }
                };
                CachedOrder { modseq: mb.highest_modseq, uids, ..e }
            }
            _ => CachedOrder {
                account,
                mailbox,
                criteria: criteria.to_vec(),
                uid_validity: mb.uid_validity,
                uid_next: mb.uid_next,
                modseq: mb.highest_modseq,
                uids: Arc::new(compute_order(c, mailbox, criteria)?),
            },
        };
        let uids = fresh.uids.clone();
        let mut inner = self.lock();
        // Keys added meanwhile may be missing from what this transaction saw.
        if inner.generation == generation && uids.len() <= CACHED_ORDER_UIDS {
            inner.entries.retain(|e| !e.is(account, mailbox, criteria));
            inner.entries.push(fresh);
            let mut total: usize = inner.entries.iter().map(|e| e.uids.len()).sum();
            while inner.entries.len() > CACHED_ORDERS || total > CACHED_ORDER_UIDS {
                total -= inner.entries.remove(0).uids.len();
            }
        }
        Ok(uids)
    }

    /// Forgets the orders of a mailbox (keys were added to it).
    fn invalidate(&self, account: AccountId, mailbox: MailboxId) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.entries.retain(|e| !(e.account == account && e.mailbox == mailbox));
    }
}

impl CachedOrder {
    fn is(&self, account: AccountId, mailbox: MailboxId, criteria: &[(SortColumn, bool)]) -> bool {
        self.account == account && self.mailbox == mailbox && self.criteria == criteria
    }
}

impl Account {
    /// The UIDs of the mailbox's messages that have sort keys, ordered by
    /// `criteria` (each `(key, reverse)`, in priority order; REVERSE turns
    /// one key around) and then by UID (RFC 5256 §3: by sequence number).
    /// Messages without keys are left out (see the module documentation).
    pub async fn sort_order(&self, mailbox: MailboxId, criteria: Vec<(SortColumn, bool)>) -> Result<Arc<Vec<u32>>> {
        let (cache, account) = (self.snapshots.clone(), self.id);
        self.read(move |c| cache.sort_orders.order(c, account, mailbox, &criteria)).await
    }

    /// Stores the sort keys of messages that have none (stored before the
    /// keys were; see the module documentation). ARRIVAL, DATE and SIZE come
    /// from the message row. Derived data: no MODSEQ changes.
    pub async fn set_sort_keys(&self, mailbox: MailboxId, keys: Vec<(u32, SortKeys)>) -> Result<()> {
        self.write(move |c, _changes| {
            let mut stmt = c.prepare_cached(
                "INSERT OR IGNORE INTO sort_keys (mailbox_id, uid, arrival, date, size, subject, from_addr, to_addr,
                                                  cc_addr, display_from, display_to)
                 SELECT mailbox_id, uid, internaldate, coalesce(sent_date, internaldate), size,
                        ?3, ?4, ?5, ?6, ?7, ?8
                 FROM messages WHERE mailbox_id = ?1 AND uid = ?2",
            )?;
            for (uid, k) in keys {
                stmt.execute(params![mailbox.0, uid, k.subject, k.from, k.to, k.cc, k.display_from, k.display_to])?;
            }
            Ok(())
        })
        .await?;
        self.snapshots.sort_orders.invalidate(self.id, mailbox);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{db, BlobStore};

    /// A database from before migration 12 with three messages: they get
    /// no keys from the migration, are left out of every order until
    /// [`Account::set_sort_keys`] gives them theirs, and then sort like
    /// new ones; expunged messages lose their keys, copies keep them.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn messages_stored_before_the_keys_get_them_later() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index.sqlite");
        let before = db::ACCOUNT_MIGRATIONS.iter().position(|m| m.contains("CREATE TABLE sort_keys")).unwrap();
        {
            let mut c = db::open_rw(&path).unwrap();
            db::migrate(&mut c, &db::ACCOUNT_MIGRATIONS[..before]).unwrap();
            c.execute_batch(
                "INSERT INTO mailboxes (id, name, uidvalidity, uidnext) VALUES (1, 'INBOX', 1, 4);
                 INSERT INTO messages (mailbox_id, uid, modseq, flags, internaldate, size, blob, sent_date) VALUES
                    (1, 1, 1, 8, 3000, 30, 'aa', NULL), (1, 2, 1, 0, 1000, 10, 'bb', 5000),
                    (1, 3, 1, 0, 2000, 20, 'cc', 500);",
            )
            .unwrap();
        }
        let acc = Account::open(AccountId(1), &path, BlobStore::new(dir.path().join("blobs")), Arc::default()).unwrap();
        let inbox = MailboxId(1);
        let order = |criteria: Vec<(SortColumn, bool)>| {
            let acc = &acc;
            async move { acc.sort_order(inbox, criteria).await.unwrap().to_vec() }
        };
        assert_eq!(order(vec![(SortColumn::Date, false)]).await, Vec::<u32>::new());
        let key = |s: &str| SortKeys { subject: s.into(), ..Default::default() };
        acc.set_sort_keys(inbox, vec![(1, key("B")), (2, key("A")), (3, key("B"))]).await.unwrap();
        // DATE is the Date: header, else INTERNALDATE (message 1).
        assert_eq!(order(vec![(SortColumn::Date, false)]).await, [3, 1, 2]);
        assert_eq!(order(vec![(SortColumn::Date, true)]).await, [2, 1, 3]);
        assert_eq!(order(vec![(SortColumn::Arrival, false)]).await, [2, 3, 1]);
        assert_eq!(order(vec![(SortColumn::Size, true)]).await, [1, 3, 2]);
        // Ties by UID, also under REVERSE; further keys break them first.
        assert_eq!(order(vec![(SortColumn::Subject, false)]).await, [2, 1, 3]);
        assert_eq!(order(vec![(SortColumn::Subject, true)]).await, [1, 3, 2]);
        assert_eq!(order(vec![(SortColumn::Subject, true), (SortColumn::Size, false)]).await, [3, 1, 2]);
        assert_eq!(order(vec![(SortColumn::From, false), (SortColumn::Date, true)]).await, [2, 1, 3]);
        // Keys given twice stay the first ones.
        acc.set_sort_keys(inbox, vec![(2, key("Z"))]).await.unwrap();
        assert_eq!(order(vec![(SortColumn::Subject, false)]).await, [2, 1, 3]);

        assert_eq!(acc.expunge(inbox, None).await.unwrap(), [1]);
        assert_eq!(order(vec![(SortColumn::Subject, false)]).await, [2, 3]);
        let other = acc.create_mailbox("Other", None).await.unwrap();
        let copied = acc.copy(inbox, vec![2, 3], other).await.unwrap();
        assert_eq!(copied.mapping, [(2, 1), (3, 2)]);
        assert_eq!(acc.sort_order(other, vec![(SortColumn::Subject, true)]).await.unwrap().to_vec(), [2, 1]);
        let c = db::open_ro(&path).unwrap();
        let rows: i64 = c.query_row("SELECT count(*) FROM sort_keys", [], |r| r.get(0)).unwrap();
        assert_eq!(rows, 4, "the expunged message's keys went with it");
    }
}
