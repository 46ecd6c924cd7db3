//! SORT keys (issue #6, migration `account_0012_sort_keys.sql`).
//!
//! Every message gets a row of precomputed sort keys in the narrow
//! `sort_keys` table when it is stored: ARRIVAL, DATE and SIZE from the
//! message itself, the string keys ([`SortKeys`]) from the IMAP layer, which
//! owns RFC 5256's base subject and the case folding. [`Account::sort_order`]
//! reads the keys SORT asks for from there, never a message row, and sorts
//! the mailbox's UIDs by them; equal keys come out by UID, i.e. by sequence
//! number (RFC 5256 §3). Orders are cached ([`OrderCache`]).
//!
//! A message without a row (stored before the table existed, or stored
//! without [`crate::MessageMeta::sort`]) is simply absent from
//! [`Account::sort_order`]; the caller notices and gives it its keys with
//! [`Account::set_sort_keys`].

use std::cmp::Ordering;
use std::ops::RangeInclusive;
use std::sync::{Arc, Mutex};

use rusqlite::{params, Connection};

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

/// One key of some messages.
enum Keys {
    Int(Vec<i64>),
    Text(Vec<Box<[u8]>>),
}

impl Keys {
    /// Message `a` here against message `b` of `other` (the same key): as
    /// SQLite's binary collation compares (integers, then UTF-8 bytes).
    fn cmp(&self, a: usize, other: &Keys, b: usize) -> Ordering {
        match (self, other) {
            (Keys::Int(x), Keys::Int(y)) => x[a].cmp(&y[b]),
            (Keys::Text(x), Keys::Text(y)) => x[a].cmp(&y[b]),
            _ => Ordering::Equal,
        }
    }

    fn len(&self) -> usize {
        match self {
            Keys::Int(k) => k.len(),
            Keys::Text(k) => k.len(),
        }
    }

    /// Each message's rank in the order of this key: equal keys have equal
    /// ranks, and the ranks are dense (0, 1, 2, …).
    fn ranks(&self) -> Vec<u32> {
        let mut by_key: Vec<usize> = (0..self.len()).collect();
        match self {
            Keys::Int(k) => by_key.sort_unstable_by_key(|&i| k[i]),
            Keys::Text(k) => {
                // The first eight bytes (zero-padded) decide most comparisons
                // and never contradict the full ones.
                let head: Vec<u64> = k
                    .iter()
                    .map(|t| {
                        let mut b = [0u8; 8];
                        let n = t.len().min(8);
                        b[..n].copy_from_slice(&t[..n]);
                        u64::from_be_bytes(b)
                    })
                    .collect();
                by_key.sort_unstable_by(|&a, &b| head[a].cmp(&head[b]).then_with(|| k[a].cmp(&k[b])));
            }
        }
        let mut ranks = vec![0; by_key.len()];
        let mut rank = 0;
        for w in 1..by_key.len() {
            if self.cmp(by_key[w - 1], self, by_key[w]).is_ne() {
                rank += 1;
            }
            ranks[by_key[w]] = rank;
        }
        ranks
    }
}

/// Messages with their keys for some criteria, ascending by UID.
struct Rows {
    uids: Vec<u32>,
    keys: Vec<Keys>,
}

impl Rows {
    /// The messages of `mailbox` with UIDs in `uids` that have keys.
    fn read(
        c: &Connection,
        mailbox: MailboxId,
        criteria: &[(SortColumn, bool)],
        uids: RangeInclusive<u32>,
    ) -> Result<Rows> {
        let cols: Vec<&str> = criteria.iter().map(|(k, _)| k.column()).collect();
        let mut stmt = c.prepare_cached(&format!(
            "SELECT uid, {} FROM sort_keys WHERE mailbox_id = ?1 AND uid BETWEEN ?2 AND ?3",
            cols.join(", ")
        ))?;
        let mut keys: Vec<Keys> = criteria
            .iter()
            .map(|(k, _)| match k {
                SortColumn::Arrival | SortColumn::Date | SortColumn::Size => Keys::Int(Vec::new()),
                _ => Keys::Text(Vec::new()),
            })
            .collect();
        let mut uid_list = Vec::new();
        let mut rows = stmt.query(params![mailbox.0, uids.start(), uids.end()])?;
        while let Some(r) = rows.next()? {
            uid_list.push(r.get::<_, i64>(0)? as u32);
            for (i, k) in keys.iter_mut().enumerate() {
                let v = r.get_ref(i + 1)?;
                match k {
                    Keys::Int(k) => k.push(v.as_i64().unwrap_or(0)),
                    Keys::Text(k) => k.push(v.as_bytes().unwrap_or(b"").into()),
                }
            }
        }
        Ok(Rows { uids: uid_list, keys })
    }

    /// Message `a` here against message `b` of `other` in the order of
    /// `criteria` (REVERSE turns one key around), then by UID.
    fn cmp(&self, a: usize, other: &Rows, b: usize, criteria: &[(SortColumn, bool)]) -> Ordering {
        criteria
            .iter()
            .zip(self.keys.iter().zip(&other.keys))
            .map(|(&(_, reverse), (x, y))| {
                let o = x.cmp(a, y, b);
                if reverse {
                    o.reverse()
                } else {
                    o
                }
            })
            .find(|o| o.is_ne())
            .unwrap_or_else(|| self.uids[a].cmp(&other.uids[b]))
    }

    /// The UIDs in the order of `criteria`: by each key's ranks (REVERSE
    /// turns them around), then by UID.
    fn sorted(&self, criteria: &[(SortColumn, bool)]) -> Vec<u32> {
        let ranks: Vec<Vec<u32>> = self
            .keys
            .iter()
            .zip(criteria)
            .map(|(k, &(_, reverse))| {
                let mut r = k.ranks();
                if reverse {
                    let last = r.iter().copied().max().unwrap_or(0);
                    r.iter_mut().for_each(|x| *x = last - *x);
                }
                r
            })
            .collect();
        if let [r] = &ranks[..] {
            // One key (the usual case): sort (rank, UID) packed in integers.
            let mut packed: Vec<u64> =
                r.iter().zip(&self.uids).map(|(&r, &uid)| (u64::from(r) << 32) | u64::from(uid)).collect();
            packed.sort_unstable();
            return packed.into_iter().map(|p| p as u32).collect();
        }
        let mut order: Vec<usize> = (0..self.uids.len()).collect();
        order.sort_unstable_by(|&a, &b| {
            ranks.iter().map(|r| r[a].cmp(&r[b])).find(|o| o.is_ne()).unwrap_or_else(|| self.uids[a].cmp(&self.uids[b]))
        });
        order.into_iter().map(|i| self.uids[i]).collect()
    }
}

/// New messages placed into a cached order one by one; with more, the
/// order is computed anew.
const MAX_PLACED: usize = 128;

/// `order` with the messages `new` placed into it: each by binary search,
/// reading the keys of the messages it is compared with. `None` if one of
/// those has no keys any more.
fn place_new(
    c: &Connection,
    mailbox: MailboxId,
    criteria: &[(SortColumn, bool)],
    order: &[u32],
    new: &Rows,
) -> Result<Option<Vec<u32>>> {
    let mut placed = Vec::with_capacity(new.uids.len());
    for i in 0..new.uids.len() {
        let (mut lo, mut hi) = (0, order.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            let probe = Rows::read(c, mailbox, criteria, order[mid]..=order[mid])?;
            if probe.uids.is_empty() {
                return Ok(None);
            }
            if probe.cmp(0, new, i, criteria).is_lt() {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        placed.push((lo, i));
    }
    // Several new messages at one place go in their own order.
    placed.sort_unstable_by(|&(p, a), &(q, b)| p.cmp(&q).then_with(|| new.cmp(a, new, b, criteria)));
    let mut merged = Vec::with_capacity(order.len() + placed.len());
    let mut next = 0;
    for (pos, i) in placed {
        merged.extend_from_slice(&order[next..pos]);
        merged.push(new.uids[i]);
        next = pos;
    }
    merged.extend_from_slice(&order[next..]);
    Ok(Some(merged))
}

/// Orders kept, and UIDs in them (4 MiB), for all accounts together; the
/// least recently used go first.
const CACHED_ORDERS: usize = 32;
const CACHED_ORDER_UIDS: usize = 1 << 20;

/// The sort orders computed last (issue #6: a web client sorts the same
/// large mailbox for every page it shows), kept with the mailbox snapshots
/// ([`crate::snapshot::SnapshotCache`]) when an account's last session goes.
///
/// Keys never change, so an order only has to follow messages that come
/// and go ([`forward`]): messages stored since have UIDs from the entry's
/// UIDNEXT on (APPEND, COPY and MOVE into the mailbox), messages expunged
/// since have newer tombstones (EXPUNGE, MOVE out) unless those may have
/// been pruned, in which case the order is computed anew. All of it is read
/// in the transaction that would otherwise compute the order, so writers in
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

/// A cached order of `criteria` as of `modseq` and `uid_next`, brought
/// forward: without the messages expunged since (their tombstones are
/// newer), with the messages stored since (their UIDs are not lower). `None`
/// when computing it anew is simpler.
fn forward(
    c: &Connection,
    mailbox: MailboxId,
    criteria: &[(SortColumn, bool)],
    uids: Arc<Vec<u32>>,
    modseq: u64,
    uid_next: u32,
) -> Result<Option<Arc<Vec<u32>>>> {
    let mut stmt = c.prepare_cached("SELECT uid FROM expunged WHERE mailbox_id = ?1 AND modseq > ?2")?;
    let gone = stmt.query_map(params![mailbox.0, modseq as i64], |r| r.get::<_, i64>(0))?;
    let mut gone = gone.map(|u| u.map(|u| u as u32)).collect::<rusqlite::Result<Vec<_>>>()?;
    gone.sort_unstable();
    let uids = match gone.is_empty() {
        true => uids,
        false => Arc::new(uids.iter().copied().filter(|u| gone.binary_search(u).is_err()).collect()),
    };
    let new = Rows::read(c, mailbox, criteria, uid_next..=u32::MAX)?;
    Ok(match new.uids.len() {
        0 => Some(uids),
        n if n > MAX_PLACED => None,
        _ => place_new(c, mailbox, criteria, &uids, &new)?.map(Arc::new),
    })
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
        let usable = |e: &CachedOrder| {
            e.uid_validity == mb.uid_validity
                && e.uid_next <= mb.uid_next
                && e.modseq <= mb.highest_modseq
                && e.modseq >= floor as u64
        };
        let brought_forward = match cached {
            Some(e) if usable(&e) && (e.modseq, e.uid_next) == (mb.highest_modseq, mb.uid_next) => Some(e.uids),
            Some(e) if usable(&e) => forward(c, mailbox, criteria, e.uids, e.modseq, e.uid_next)?,
            _ => None,
        };
        let uids = match brought_forward {
            Some(uids) => uids,
            None => Arc::new(Rows::read(c, mailbox, criteria, 1..=u32::MAX)?.sorted(criteria)),
        };
        let fresh = CachedOrder {
            account,
            mailbox,
            criteria: criteria.to_vec(),
            uid_validity: mb.uid_validity,
            uid_next: mb.uid_next,
            modseq: mb.highest_modseq,
            uids,
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
    use crate::{db, BlobStore, Flags, NewMessage};

    /// A database from before migration 12 with three messages: they get
    /// no keys from the migration, are left out of every order until
    /// [`Account::set_sort_keys`] gives them theirs, and then sort like
    /// new ones. Messages stored later join the cached orders; expunged
    /// messages lose their keys, copies keep them.
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
        let acc =
            Account::open(AccountId(1), &path, BlobStore::new(dir.path().join("blobs")), Arc::default(), None).unwrap();
        let inbox = MailboxId(1);
        let order = |criteria: Vec<(SortColumn, bool)>| {
            let acc = &acc;
            async move { acc.sort_order(inbox, criteria).await.unwrap().to_vec() }
        };
        assert_eq!(order(vec![(SortColumn::Date, false)]).await, Vec::<u32>::new());
        let key = |s: &str| SortKeys { subject: s.into(), ..Default::default() };
        acc.set_sort_keys(inbox, vec![(1, key("B")), (2, key("A")), (3, key("B"))]).await.unwrap();
        // Keys given twice stay the first ones.
        acc.set_sort_keys(inbox, vec![(2, key("Z"))]).await.unwrap();
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

        // Messages stored later are placed into the orders computed so far.
        let new = |subject: &str, date: i64| NewMessage {
            blob: acc.blobs().write(subject.as_bytes()).unwrap(),
            size: 1,
            prefix: Vec::new(),
            flags: Flags::default(),
            internal_date: date,
            internal_date_zone: 0,
            meta: MessageMeta { sort: Some(key(subject)), ..Default::default() },
        };
        let (_, uids) = acc.append(inbox, vec![new("C", 4000), new("A", 100), new("B", 2500)]).await.unwrap();
        assert_eq!(uids, [4, 5, 6]);
        assert_eq!(order(vec![(SortColumn::Subject, false)]).await, [2, 5, 1, 3, 6, 4]);
        assert_eq!(order(vec![(SortColumn::Subject, true)]).await, [4, 1, 3, 6, 2, 5]);
        assert_eq!(order(vec![(SortColumn::Date, false)]).await, [5, 3, 6, 1, 4, 2]);
        assert_eq!(order(vec![(SortColumn::Subject, true), (SortColumn::Size, false)]).await, [4, 6, 3, 1, 5, 2]);

        assert_eq!(acc.expunge(inbox, None).await.unwrap(), [1]);
        assert_eq!(order(vec![(SortColumn::Subject, false)]).await, [2, 5, 3, 6, 4]);
        let other = acc.create_mailbox("Other", None).await.unwrap();
        let copied = acc.copy(inbox, vec![2, 3], other).await.unwrap();
        assert_eq!(copied.mapping, [(2, 1), (3, 2)]);
        assert_eq!(acc.sort_order(other, vec![(SortColumn::Subject, true)]).await.unwrap().to_vec(), [2, 1]);
        let c = db::open_ro(&path).unwrap();
        let rows: i64 = c.query_row("SELECT count(*) FROM sort_keys", [], |r| r.get(0)).unwrap();
        assert_eq!(rows, 7, "the expunged message's keys went with it");
    }
}
