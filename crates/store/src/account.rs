//! One account's database (`DATA/accounts/<id>/index.sqlite`) and change feed.
//!
//! Writes go through one writer thread per account that drains its queue into
//! a single transaction (group commit, invariant 4); reads use their own
//! connections (WAL lets them run beside the writer). After a write commits,
//! [`Change`]s are published on the account's broadcast channel.
//!
//! ## Group commit
//!
//! Every write method packs its work into a job and sends it to the writer
//! thread. The writer takes the first job, drains every job already queued
//! (up to [`MAX_BATCH`]), and runs them in one `BEGIN IMMEDIATE … COMMIT`,
//! each job inside its own `SAVEPOINT` so that a failing job rolls back only
//! its own work. One commit (one fsync of the WAL) then acknowledges all of
//! them: the changes are published on the feed, then each caller gets its
//! answer. [`Account::commit_count`] counts the committed transactions.
//!
//! ## MODSEQ
//!
//! Each write operation (one job) that changes a mailbox increments that
//! mailbox's `highestmodseq` exactly once and stamps every row and tombstone
//! it changes with the new value; a job that changes nothing bumps nothing.
//! Jobs grouped into one commit get consecutive MODSEQs in queue order.
//!
//! ## Ownership (invariant 5)
//!
//! Every method returns owned data; no connection, lock or transaction
//! outlives a call, so callers may write to sockets freely.

use std::collections::{BTreeMap, HashSet};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;

use rusqlite::{params, Connection, OptionalExtension, Row};
use tokio::sync::{broadcast, oneshot};

use crate::snapshot::{MailboxSnapshot, SnapshotCache};
use crate::types::keywords_from_text;
use crate::{
    db, AccountId, BlobId, BlobStore, Change, Changes, CopyResult, Delivered, Error, FetchParts, FlagOp, Flags,
    MailboxId, MailboxInfo, MailboxStatus, MessageMeta, MessageRecord, MessageSummary, NewMessage, QuotaLimits,
    QuotaUsage, RecordRef, Result, UsageChange,
};

pub mod fts;
pub mod metadata;
pub mod sieve;
pub mod sort;

/// Most jobs grouped into one transaction.
pub const MAX_BATCH: usize = 256;
/// Capacity of the change feed; a receiver that lags further gets `Lagged`.
pub const FEED_CAPACITY: usize = 1024;
/// Idle read connections kept per account.
const READ_POOL_IDLE: usize = 4;

/// Told, on the writer thread, of the changes each commit publishes on an
/// account's feed (after they are on it). The server's worker processes pass
/// them on to each other with it ([`crate::Store::set_commit_hook`]);
/// changes from [`Account::publish_external`] do not go through it.
pub type CommitHook = Arc<dyn Fn(AccountId, &[Change]) + Send + Sync>;

/// A [`CommitHook`] bound to its account, as the writer thread calls it.
type OnCommit = Box<dyn Fn(&[Change]) + Send>;

/// The default mailboxes of a new account and their RFC 6154 special use.
pub const DEFAULT_MAILBOXES: &[(&str, Option<&str>)] = &[
    ("INBOX", None),
    ("Sent", Some("\\Sent")),
    ("Drafts", Some("\\Drafts")),
    ("Trash", Some("\\Trash")),
    ("Junk", Some("\\Junk")),
    ("Archive", Some("\\Archive")),
];

pub struct Account {
    id: AccountId,
    blobs: BlobStore,
    feed: broadcast::Sender<Change>,
    /// Queue of the writer thread; `None` only while dropping.
    writer: Option<mpsc::Sender<Box<dyn WriteJob>>>,
    writer_thread: Option<JoinHandle<()>>,
    commits: Arc<AtomicU64>,
    readers: Arc<ReadPool>,
    /// The data directory's snapshots of mailboxes for SELECT.
    snapshots: Arc<SnapshotCache>,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account").field("id", &self.id).finish_non_exhaustive()
    }
}

impl Drop for Account {
    fn drop(&mut self) {
        // Read connections close first, so the writer's connection is the
        // last one and may checkpoint and remove the WAL.
        self.readers.idle.lock().unwrap_or_else(|p| p.into_inner()).clear();
        // Closing the queue ends the writer thread after its current batch.
        self.writer.take();
        if let Some(t) = self.writer_thread.take() {
            let _ = t.join();
        }
    }
}

/// Opens (creating and migrating) an account database; a new one gets the
/// default mailboxes and subscriptions.
pub(crate) fn init_db(path: &Path) -> Result<Connection> {
    let mut conn = db::open_rw(path)?;
    let before = db::migrate(&mut conn, db::ACCOUNT_MIGRATIONS)?;
    if before == 0 {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for (name, special) in DEFAULT_MAILBOXES {
            insert_mailbox(&tx, name, *special)?;
            tx.execute("INSERT OR IGNORE INTO subscriptions (name) VALUES (?1)", [name])?;
        }
        tx.commit()?;
    }
    // Messages stored before the full-text index existed (migration 7) are
    // read by every text SEARCH until they are indexed.
    let unindexed: i64 = conn.query_row("SELECT count(*) FROM messages WHERE text_id IS NULL", [], |r| r.get(0))?;
    if unindexed > 0 {
        tracing::warn!(
            path = %path.display(),
            unindexed,
            "messages are not in the full-text index; SEARCH reads them until `postfach index rebuild --user NAME` indexes them"
        );
    }
    Ok(conn)
}

// ---------------------------------------------------------------- read pool

struct ReadPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl ReadPool {
    /// `f` inside one read transaction, so multi-statement reads see one
    /// snapshot.
    fn run<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        self.with_conn(|conn| {
            let tx = conn.unchecked_transaction()?;
            let v = f(&tx)?;
            tx.commit()?;
            Ok(v)
        })
    }

    /// `f` outside any transaction: for a read that is one statement (its
    /// own implicit transaction), which saves parsing and running BEGIN and
    /// COMMIT.
    fn with_conn<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let conn = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match conn {
            Some(c) => c,
            None => db::open_ro(&self.path)?,
        };
        let res = f(&conn);
        if res.is_ok() {
            let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
            if idle.len() < READ_POOL_IDLE {
                idle.push(conn);
            }
        }
        res
    }
}

// ---------------------------------------------------------------- writer

/// What a job left after running inside its savepoint.
struct JobDone {
    ok: bool,
    changes: Vec<Change>,
    /// Sends the answer; gets the commit error if the transaction failed.
    finish: Box<dyn FnOnce(Option<String>) + Send>,
}

trait WriteJob: Send {
    fn run(self: Box<Self>, conn: &Connection) -> JobDone;
    /// The transaction could not even start: answer with this error.
    fn fail(self: Box<Self>, err: String);
}

struct Job<T, F> {
    f: F,
    reply: oneshot::Sender<Result<T>>,
}

impl<T, F> WriteJob for Job<T, F>
where
    T: Send + 'static,
    F: FnOnce(&Connection, &mut Vec<Change>) -> Result<T> + Send,
{
    fn run(self: Box<Self>, conn: &Connection) -> JobDone {
        let Job { f, reply } = *self;
        let mut changes = Vec::new();
        match f(conn, &mut changes) {
            Ok(v) => JobDone {
                ok: true,
                changes,
                finish: Box::new(move |err| {
                    let _ = reply.send(match err {
                        None => Ok(v),
                        Some(e) => Err(Error::Task(e)),
                    });
                }),
            },
            Err(e) => JobDone {
                ok: false,
                changes: Vec::new(),
                finish: Box::new(move |_| {
                    let _ = reply.send(Err(e));
                }),
            },
        }
    }

    fn fail(self: Box<Self>, err: String) {
        let _ = self.reply.send(Err(Error::Task(err)));
    }
}

fn writer_loop(
    conn: Connection,
    rx: mpsc::Receiver<Box<dyn WriteJob>>,
    feed: broadcast::Sender<Change>,
    commits: Arc<AtomicU64>,
    hook: Option<OnCommit>,
) {
    // Full-text documents wait in a plain table until the writer folds a
    // batch of them into the index (see `fts`): at FOLD_AT, after FOLD_IDLE
    // without writes, and when the account closes.
    let mut pending = fts::pending(&conn).unwrap_or(0);
    loop {
        let first = if pending > 0 {
            match rx.recv_timeout(fts::FOLD_IDLE) {
                Ok(job) => job,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    pending = fold(&conn);
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        } else {
            match rx.recv() {
                Ok(job) => job,
                Err(_) => break,
            }
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        run_batch(&conn, batch, &feed, &commits, hook.as_ref());
        pending = fts::pending(&conn).unwrap_or(0);
        if pending >= fts::FOLD_AT {
            pending = fold(&conn);
        }
    }
    if pending > 0 {
        fold(&conn);
    }
}

/// Folds the pending full-text documents in a transaction of its own;
/// returns how many still wait.
fn fold(conn: &Connection) -> usize {
    let folded = conn.execute_batch("BEGIN IMMEDIATE").map_err(Error::from).and_then(|()| {
        let r = fts::fold_pending(conn).and_then(|()| Ok(conn.execute_batch("COMMIT")?));
        if r.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        r
    });
    if let Err(e) = folded {
        tracing::warn!(error = %e, "cannot fold pending full-text documents; SEARCH reads their messages meanwhile");
    }
    fts::pending(conn).unwrap_or(0)
}

fn run_batch(
    conn: &Connection,
    batch: Vec<Box<dyn WriteJob>>,
    feed: &broadcast::Sender<Change>,
    commits: &AtomicU64,
    hook: Option<&OnCommit>,
) {
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        let msg = format!("cannot begin transaction: {e}");
        for job in batch {
            job.fail(msg.clone());
        }
        return;
    }
    let mut done: Vec<JobDone> = Vec::with_capacity(batch.len());
    let mut broken: Option<String> = None;
    let mut jobs = batch.into_iter();
    for job in jobs.by_ref() {
        if let Err(e) = conn.execute_batch("SAVEPOINT job") {
            broken = Some(format!("savepoint failed: {e}"));
            job.fail(broken.clone().unwrap_or_default());
            break;
        }
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| job.run(conn)));
        let ok = matches!(&outcome, Ok(d) if d.ok);
        let end =
            if ok { conn.execute_batch("RELEASE job") } else { conn.execute_batch("ROLLBACK TO job; RELEASE job") };
        if let Ok(d) = outcome {
            done.push(d);
        } else {
            tracing::error!("store write job panicked; its work was rolled back");
        }
        if let Err(e) = end {
            broken = Some(format!("savepoint release failed: {e}"));
            break;
        }
    }
    if let Some(msg) = broken {
        let _ = conn.execute_batch("ROLLBACK");
        for job in jobs {
            job.fail(msg.clone());
        }
        for d in done {
            (d.finish)(Some(msg.clone()));
        }
        return;
    }
    if let Err(e) = conn.execute_batch("COMMIT") {
        let _ = conn.execute_batch("ROLLBACK");
        let msg = format!("commit failed: {e}");
        for d in done {
            (d.finish)(Some(msg.clone()));
        }
        return;
    }
    commits.fetch_add(1, Ordering::SeqCst);
    // Publish first, so a caller that gets its answer finds its change already
    // on the feed. Per mailbox, only the last MODSEQ of the batch is sent.
    let mut per_mailbox: BTreeMap<MailboxId, u64> = BTreeMap::new();
    let mut list = false;
    for d in &done {
        if !d.ok {
            continue;
        }
        for c in &d.changes {
            match c {
                Change::Mailbox { mailbox, modseq } => {
                    let e = per_mailbox.entry(*mailbox).or_insert(0);
                    *e = (*e).max(*modseq);
                }
                Change::MailboxList => list = true,
                Change::Metadata { .. } => {}
            }
        }
    }
    let mut published = Vec::new();
    if list {
        published.push(Change::MailboxList);
    }
    for (mailbox, modseq) in per_mailbox {
        published.push(Change::Mailbox { mailbox, modseq });
    }
    for d in done.iter().filter(|d| d.ok) {
        published.extend(d.changes.iter().filter(|c| matches!(c, Change::Metadata { .. })).cloned());
    }
    for c in &published {
        let _ = feed.send(c.clone());
    }
    if let Some(hook) = hook.filter(|_| !published.is_empty()) {
        hook(&published);
    }
    for d in done {
        (d.finish)(None);
    }
}

// ---------------------------------------------------------------- helpers

fn no_mailbox(id: MailboxId) -> Error {
    Error::NoSuchMailbox(format!("#{}", id.0))
}

fn keywords_to_text(k: &[String]) -> String {
    k.join(" ")
}

fn flags_from(system: i64, keywords: &str) -> Flags {
    Flags { system: (system & 0xff) as u8, keywords: keywords_from_text(keywords) }
}

fn normalized(mut f: Flags) -> Flags {
    f.normalize();
    f
}

/// The flags after applying a STORE operation.
fn apply_flags(old: &Flags, op: FlagOp, f: &Flags) -> Flags {
    match op {
        FlagOp::Replace => normalized(f.clone()),
        FlagOp::Add => {
            let mut keywords = old.keywords.clone();
            keywords.extend(f.keywords.iter().cloned());
            normalized(Flags { system: old.system | f.system, keywords })
        }
        FlagOp::Remove => normalized(Flags {
            system: old.system & !f.system,
            keywords: old.keywords.iter().filter(|k| !f.has_keyword(k)).cloned().collect(),
        }),
    }
}

fn same_flags(a: &Flags, b: &Flags) -> bool {
    a.system == b.system
        && a.keywords.len() == b.keywords.len()
        && a.keywords.iter().zip(&b.keywords).all(|(x, y)| x == y)
}

/// Keywords are IMAP atoms: non-empty, no spaces or control characters
/// (they are stored space-separated).
fn check_keywords(f: &Flags) -> Result<()> {
    for k in &f.keywords {
        if k.is_empty() || k.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Error::InvalidName(format!("keyword {k:?}")));
        }
    }
    Ok(())
}

/// Checks a mailbox name: non-empty, no empty level, no leading or trailing
/// `/`, no control characters and no LIST wildcards (`*`, `%`).
pub fn validate_mailbox_name(name: &str) -> Result<()> {
    let bad = name.is_empty()
        || name.split('/').any(str::is_empty)
        || name.chars().any(|c| c.is_control() || c == '*' || c == '%');
    if bad {
        return Err(Error::InvalidName(name.to_string()));
    }
    Ok(())
}

/// The next UIDVALIDITY of this account: larger than any handed out before
/// (and at least the current time, so a recreated account database is
/// unlikely to repeat an old value either).
fn next_uidvalidity(conn: &Connection) -> Result<u32> {
    let last: i64 = conn.query_row("SELECT last FROM uidvalidity_seq WHERE id = 1", [], |r| r.get(0))?;
    let mut next = (last + 1).max(db::now());
    if next > i64::from(u32::MAX) || next < 1 {
        next = 1;
    }
    conn.execute("UPDATE uidvalidity_seq SET last = ?1 WHERE id = 1", [next])?;
    Ok(next as u32)
}

fn insert_mailbox(conn: &Connection, name: &str, special_use: Option<&str>) -> Result<MailboxId> {
    let uv = next_uidvalidity(conn)?;
    conn.execute(
        "INSERT INTO mailboxes (name, uidvalidity, uidnext, highestmodseq, special_use, object_id)
         VALUES (?1, ?2, 1, 1, ?3, 'F' || lower(hex(randomblob(12))))",
        params![name, uv, special_use],
    )?;
    Ok(MailboxId(conn.last_insert_rowid()))
}

fn mailbox_from_row(r: &Row<'_>) -> rusqlite::Result<MailboxInfo> {
    Ok(MailboxInfo {
        id: MailboxId(r.get(0)?),
        name: r.get(1)?,
        uid_validity: r.get::<_, i64>(2)? as u32,
        uid_next: r.get::<_, i64>(3)? as u32,
        highest_modseq: r.get::<_, i64>(4)? as u64,
        special_use: r.get(5)?,
        object_id: r.get(6)?,
    })
}

const MAILBOX_COLS: &str = "id, name, uidvalidity, uidnext, highestmodseq, special_use, object_id";

/// [`Account::fetch_records`] of at most this many messages runs on the
/// caller's thread.
const INLINE_RECORDS: usize = 4;

/// What SELECT needs of a mailbox ([`Account::open_mailbox`]).
#[derive(Debug, Clone)]
pub struct OpenedMailbox {
    pub mailbox: MailboxInfo,
    pub snapshot: Arc<MailboxSnapshot>,
    pub has_children: bool,
    pub unclaimed_recent: bool,
}

fn mailbox_by_name(conn: &Connection, name: &str) -> Result<Option<MailboxInfo>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {MAILBOX_COLS} FROM mailboxes WHERE name = ?1"))?;
    Ok(stmt.query_row([name], mailbox_from_row).optional()?)
}

fn mailbox_by_id(conn: &Connection, id: MailboxId) -> Result<MailboxInfo> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {MAILBOX_COLS} FROM mailboxes WHERE id = ?1"))?;
    stmt.query_row([id.0], mailbox_from_row).optional()?.ok_or_else(|| no_mailbox(id))
}

/// Names of the mailboxes below `name` (`name/…`), sorted.
fn children(conn: &Connection, name: &str) -> Result<Vec<(MailboxId, String)>> {
    // '0' is the character after '/', so this range is exactly "name/…".
    let mut stmt = conn
        .prepare_cached("SELECT id, name FROM mailboxes WHERE name > ?1 || '/' AND name < ?1 || '0' ORDER BY name")?;
    let rows = stmt.query_map([name], |r| Ok((MailboxId(r.get(0)?), r.get::<_, String>(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Creates the missing ancestors of `name` (`a/b/c` → `a`, `a/b`).
fn create_parents(conn: &Connection, name: &str) -> Result<bool> {
    let mut created = false;
    for (i, _) in name.match_indices('/') {
        let parent = &name[..i];
        if mailbox_by_name(conn, parent)?.is_none() {
            insert_mailbox(conn, parent, None)?;
            created = true;
        }
    }
    Ok(created)
}

/// Increments a mailbox's HIGHESTMODSEQ and returns the new value.
fn bump_modseq(conn: &Connection, mailbox: MailboxId) -> Result<u64> {
    let mut stmt = conn.prepare_cached(
        "UPDATE mailboxes SET highestmodseq = highestmodseq + 1 WHERE id = ?1 RETURNING highestmodseq",
    )?;
    let v: Option<i64> = stmt.query_row([mailbox.0], |r| r.get(0)).optional()?;
    v.map(|v| v as u64).ok_or_else(|| no_mailbox(mailbox))
}

/// Reserves `n` UIDs and returns the first.
fn reserve_uids(conn: &Connection, mb: &MailboxInfo, n: usize) -> Result<u32> {
    let first = u64::from(mb.uid_next.max(1));
    let next = first + n as u64;
    if next > u64::from(u32::MAX) {
        return Err(Error::NotAllowed(format!("{}: UID space exhausted", mb.name)));
    }
    conn.execute("UPDATE mailboxes SET uidnext = ?2 WHERE id = ?1", params![mb.id.0, next as i64])?;
    Ok(first as u32)
}

/// A mailbox's snapshot, current as of the read transaction `c`.
fn snapshot_in(
    c: &Connection,
    cache: &SnapshotCache,
    account: AccountId,
    mailbox: MailboxId,
) -> Result<Arc<MailboxSnapshot>> {
    let mb = mailbox_by_id(c, mailbox)?;
    let floor: i64 = c
        .prepare_cached("SELECT tombstone_floor FROM mailboxes WHERE id = ?1")?
        .query_row([mailbox.0], |r| r.get(0))?;
    cache.current(c, account, &mb, floor as u64)
}

/// [`Account::open_mailbox`] with the snapshot `snapshot` gives:
/// `Some(None)` when there is no such mailbox, `None` when `snapshot` had
/// none. The mailbox's row, its `\Recent` mark and whether it has children
/// are one statement, so a warm SELECT needs no explicit transaction.
fn open_in(
    c: &Connection,
    name: &str,
    snapshot: impl FnOnce(&MailboxInfo) -> Result<Option<Arc<MailboxSnapshot>>>,
) -> Result<Option<Option<OpenedMailbox>>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {MAILBOX_COLS}, recent_uid, \
         EXISTS (SELECT 1 FROM mailboxes WHERE name > ?1 || '/' AND name < ?1 || '0') \
         FROM mailboxes WHERE name = ?1"
    ))?;
    let row =
        stmt.query_row([name], |r| Ok((mailbox_from_row(r)?, r.get::<_, u32>(7)?, r.get::<_, bool>(8)?))).optional()?;
    let Some((mailbox, recent_uid, has_children)) = row else { return Ok(Some(None)) };
    let Some(snapshot) = snapshot(&mailbox)? else { return Ok(None) };
    let unclaimed_recent = recent_uid.saturating_add(1) < snapshot.uid_next;
    Ok(Some(Some(OpenedMailbox { mailbox, snapshot, has_children, unclaimed_recent })))
}

fn summary_from_row(r: &Row<'_>) -> rusqlite::Result<MessageSummary> {
    Ok(MessageSummary {
        uid: r.get::<_, i64>(0)? as u32,
        modseq: r.get::<_, i64>(1)? as u64,
        flags: flags_from(
            r.get(2)?,
            r.get_ref(3)?
                .as_str()
                .map_err(|e| rusqlite::Error::FromSqlConversionFailure(3, rusqlite::types::Type::Text, Box::new(e)))?,
        ),
    })
}

/// Existing summaries for these UIDs, ascending (duplicates removed).
fn summaries_for(conn: &Connection, mailbox: MailboxId, uids: &[u32]) -> Result<Vec<MessageSummary>> {
    rows_for(conn, "uid, modseq, flags, keywords", mailbox, uids, summary_from_row)
}

/// The rows of these UIDs (those that exist), ascending. `cols` must start
/// with `uid`. A dense set (`1:*`, a chunk of a mailbox) is read with one
/// range scan of the primary key; a sparse one with point lookups.
fn rows_for<T>(
    conn: &Connection,
    cols: &str,
    mailbox: MailboxId,
    uids: &[u32],
    map: fn(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>> {
    let mut out = Vec::with_capacity(uids.len());
    visit_rows(conn, cols, mailbox, uids, |r| Ok(out.push(map(r)?)))?;
    Ok(out)
}

/// Calls `visit` with the row of each of `uids` that exists, ascending
/// (`uid` must be the first of `cols`): one range scan when the UIDs are
/// dense, else one lookup per UID.
fn visit_rows(
    conn: &Connection,
    cols: &str,
    mailbox: MailboxId,
    uids: &[u32],
    mut visit: impl FnMut(&Row<'_>) -> rusqlite::Result<()>,
) -> Result<()> {
    let mut uids: Vec<u32> = uids.to_vec();
    uids.sort_unstable();
    uids.dedup();
    let (Some(&lo), Some(&hi)) = (uids.first(), uids.last()) else { return Ok(()) };
    if u64::from(hi - lo) < 4 * uids.len() as u64 {
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {cols} FROM messages WHERE mailbox_id = ?1 AND uid BETWEEN ?2 AND ?3 ORDER BY uid"
        ))?;
        let mut rows = stmt.query(params![mailbox.0, lo, hi])?;
        while let Some(r) = rows.next()? {
            let uid = r.get::<_, i64>(0)? as u32;
            if uids.binary_search(&uid).is_ok() {
                visit(r)?;
            }
        }
        return Ok(());
    }
    let mut stmt = conn.prepare_cached(&format!("SELECT {cols} FROM messages WHERE mailbox_id = ?1 AND uid = ?2"))?;
    for uid in uids {
        let mut rows = stmt.query(params![mailbox.0, uid])?;
        if let Some(r) = rows.next()? {
            visit(r)?;
        }
    }
    Ok(())
}

/// Inserts `messages` into `mb` (after checking their blobs and the quota):
/// their UIDs, the usage change (with limits) and the new MODSEQ.
fn insert_messages(
    c: &Connection,
    blobs: &BlobStore,
    mb: &MailboxInfo,
    messages: Vec<NewMessage>,
    limits: &QuotaLimits,
    changes: &mut Vec<Change>,
) -> Result<(Vec<u32>, Option<UsageChange>, u64)> {
    let mailbox = mb.id;
    // Invariant 3: no row may refer to a blob that is not on disk.
    for m in &messages {
        if !blobs.exists(&m.blob) {
            return Err(Error::Io(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("blob {} is not stored", m.blob.0),
            )));
        }
    }
    if messages.is_empty() {
        return Ok((Vec::new(), None, mb.highest_modseq));
    }
    let added = messages.iter().map(|m| m.size).sum::<u64>();
    let usage = check_quota(c, limits, added, messages.len() as u64)?;
    let first = reserve_uids(c, mb, messages.len())?;
    let modseq = bump_modseq(c, mailbox)? as i64;
    let mut stmt = c.prepare_cached(
        "INSERT INTO messages (mailbox_id, uid, modseq, flags, keywords, internaldate, internaldate_zone, size,
                               blob, prefix, envelope, bodystructure, body, subject, from_addr, to_addr, cc_addr,
                               sent_date, message_id, thread_refs, savedate, email_id, thread_id,
                               from_mailbox, to_mailbox, cc_mailbox, display_from, display_to, sort_refs,
                               preview, text_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21,
                 'M' || lower(hex(randomblob(12))), coalesce(?22, 'T' || lower(hex(randomblob(12)))),
                 ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30)",
    )?;
    let now = db::now();
    let mut uids = Vec::with_capacity(messages.len());
    for (i, m) in messages.into_iter().enumerate() {
        let uid = first + i as u32;
        // The full-text document, in this same transaction (issue #7).
        let text_id = match &m.meta.text {
            Some(t) => Some(fts::document_for(c, &m, t)?),
            None => None,
        };
        let flags = normalized(m.flags);
        // Earlier messages of this batch are already inserted, so a
        // reply appended together with its parent joins its thread.
        let thread = thread_of_refs(c, &m.meta.references)?;
        stmt.execute(params![
            mailbox.0,
            uid,
            modseq,
            i64::from(flags.system),
            keywords_to_text(&flags.keywords),
            m.internal_date,
            i64::from(m.internal_date_zone),
            m.size as i64,
            m.blob.0,
            m.prefix,
            m.meta.envelope,
            m.meta.bodystructure,
            m.meta.body,
            m.meta.subject,
            m.meta.from,
            m.meta.to,
            m.meta.cc,
            m.meta.sent_date,
            m.meta.message_id,
            refs_to_text(&m.meta.references),
            now,
            thread,
            m.meta.from_mailbox,
            m.meta.to_mailbox,
            m.meta.cc_mailbox,
            m.meta.display_from,
            m.meta.display_to,
            m.meta.thread_refs,
            m.meta.preview,
            text_id,
        ])?;
        sort::insert_keys(c, mailbox, uid, &m.meta, m.internal_date, m.size)?;
        uids.push(uid);
    }
    changes.push(Change::Mailbox { mailbox, modseq: modseq as u64 });
    Ok((uids, usage, modseq as u64))
}

/// Copies rows (ascending source UID) into `to` with new UIDs and one new MODSEQ.
fn copy_rows(
    conn: &Connection,
    from: MailboxId,
    uids: &[u32],
    to: MailboxId,
    changes: &mut Vec<Change>,
) -> Result<CopyResult> {
    let _ = mailbox_by_id(conn, from)?;
    let dest = mailbox_by_id(conn, to)?;
    let existing = summaries_for(conn, from, uids)?;
    if existing.is_empty() {
        return Ok(CopyResult { uid_validity: dest.uid_validity, mapping: Vec::new() });
    }
    let first = reserve_uids(conn, &dest, existing.len())?;
    let modseq = bump_modseq(conn, to)?;
    let mut stmt = conn.prepare_cached(
        "INSERT INTO messages (mailbox_id, uid, modseq, flags, keywords, internaldate, internaldate_zone, size, blob,
                               prefix, envelope, bodystructure, body, subject, from_addr, to_addr, cc_addr, sent_date, message_id,
                               thread_refs, email_id, thread_id, savedate,
                               from_mailbox, to_mailbox, cc_mailbox, display_from, display_to, sort_refs, preview, text_id)
         SELECT ?3, ?4, ?5, flags, keywords, internaldate, internaldate_zone, size, blob,
                prefix, envelope, bodystructure, body, subject, from_addr, to_addr, cc_addr, sent_date, message_id,
                thread_refs, email_id, thread_id, ?6,
                from_mailbox, to_mailbox, cc_mailbox, display_from, display_to, sort_refs, preview, text_id
         FROM messages WHERE mailbox_id = ?1 AND uid = ?2",
    )?;
    // RFC 8514 §3: the copy is saved now; RFC 8474 §5.1: same EMAILID/THREADID.
    let now = db::now();
    let mut mapping = Vec::with_capacity(existing.len());
    for (i, s) in existing.iter().enumerate() {
        let new_uid = first + i as u32;
        stmt.execute(params![from.0, s.uid, to.0, new_uid, modseq as i64, now])?;
        sort::copy_keys(conn, from, s.uid, to, new_uid)?;
        mapping.push((s.uid, new_uid));
    }
    changes.push(Change::Mailbox { mailbox: to, modseq });
    Ok(CopyResult { uid_validity: dest.uid_validity, mapping })
}

/// Removes rows and leaves tombstones with one new MODSEQ.
fn expunge_rows(conn: &Connection, mailbox: MailboxId, uids: &[u32], changes: &mut Vec<Change>) -> Result<()> {
    if uids.is_empty() {
        return Ok(());
    }
    let modseq = bump_modseq(conn, mailbox)? as i64;
    let mut del = conn.prepare_cached("DELETE FROM messages WHERE mailbox_id = ?1 AND uid = ?2")?;
    let mut tomb = conn.prepare_cached(
        "INSERT OR REPLACE INTO expunged (mailbox_id, uid, modseq, expunged_at) VALUES (?1, ?2, ?3, ?4)",
    )?;
    let now = crate::db::now();
    for uid in uids {
        del.execute(params![mailbox.0, uid])?;
        tomb.execute(params![mailbox.0, uid, modseq, now])?;
    }
    changes.push(Change::Mailbox { mailbox, modseq: modseq as u64 });
    Ok(())
}

/// Usage of the whole account, read in the caller's transaction.
fn usage(conn: &Connection) -> Result<QuotaUsage> {
    let mut stmt = conn.prepare_cached("SELECT count(*), coalesce(sum(size), 0) FROM messages")?;
    let (n, size): (i64, i64) = stmt.query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(QuotaUsage { storage: size as u64, messages: n as u64 })
}

/// Refuses adding `bytes` in `count` messages when that would exceed a limit;
/// otherwise returns the usage before and after (`None` when unlimited, so
/// unlimited accounts pay no scan).
fn check_quota(conn: &Connection, limits: &QuotaLimits, bytes: u64, count: u64) -> Result<Option<UsageChange>> {
    if limits.is_unlimited() {
        return Ok(None);
    }
    let before = usage(conn)?;
    if let Some(r) = limits.refuses(&before, bytes, count) {
        return Err(Error::OverQuota(r.to_string()));
    }
    let after = QuotaUsage { storage: before.storage + bytes, messages: before.messages + count };
    Ok(Some(UsageChange { before, after }))
}

/// The columns [`record_from_row`] reads, in its order.
const RECORD_COLS: &str = "uid, modseq, flags, keywords, internaldate, internaldate_zone, size, blob, prefix,
    envelope, bodystructure, body, subject, from_addr, to_addr, cc_addr, sent_date, message_id,
    thread_refs, email_id, thread_id, savedate,
    from_mailbox, to_mailbox, cc_mailbox, display_from, display_to, sort_refs, preview";

/// [`RECORD_COLS`] for FETCH: the search and sort keys, which FETCH never
/// uses, and the large columns it was not asked for come back empty (typed
/// literals in their place), so SQLite neither decodes nor copies them.
fn fetch_cols(p: FetchParts) -> String {
    RECORD_COLS
        .split(',')
        .map(str::trim)
        .map(|c| match c {
            "envelope" if !p.envelope => "x''",
            "bodystructure" if !p.bodystructure => "x''",
            "body" if !p.body => "x''",
            "email_id" | "thread_id" if !p.ids => "''",
            "savedate" if !p.ids => "0",
            "sent_date" if !p.keys => "NULL",
            "subject" | "from_addr" | "to_addr" | "cc_addr" | "message_id" | "thread_refs" | "from_mailbox"
            | "to_mailbox" | "cc_mailbox" | "display_from" | "display_to" | "sort_refs"
                if !p.keys =>
            {
                "''"
            }
            c => c,
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn record_from_row(r: &Row<'_>) -> rusqlite::Result<MessageRecord> {
    let mut rec = record_core_from_row(r)?;
    rec.meta = MessageMeta {
        subject: r.get(12)?,
        from: r.get(13)?,
        to: r.get(14)?,
        cc: r.get(15)?,
        sent_date: r.get(16)?,
        message_id: r.get(17)?,
        references: refs_from_text(&r.get::<_, String>(18)?),
        from_mailbox: r.get(22)?,
        to_mailbox: r.get(23)?,
        cc_mailbox: r.get(24)?,
        display_from: r.get(25)?,
        display_to: r.get(26)?,
        thread_refs: r.get(27)?,
        ..rec.meta
    };
    Ok(rec)
}

/// [`record_from_row`] without the search and sort keys (left empty): what
/// FETCH reads. A `FETCH 1:* (ENVELOPE)` of a large mailbox spent a fifth
/// of its time decoding the empty key columns.
fn record_core_from_row(r: &Row<'_>) -> rusqlite::Result<MessageRecord> {
    Ok(MessageRecord {
        uid: r.get::<_, i64>(0)? as u32,
        modseq: r.get::<_, i64>(1)? as u64,
        flags: flags_from(
            r.get(2)?,
            r.get_ref(3)?
                .as_str()
                .map_err(|e| rusqlite::Error::FromSqlConversionFailure(3, rusqlite::types::Type::Text, Box::new(e)))?,
        ),
        internal_date: r.get(4)?,
        internal_date_zone: r.get::<_, i64>(5)? as i16,
        size: r.get::<_, i64>(6)? as u64,
        blob: BlobId(r.get(7)?),
        prefix: r.get(8)?,
        meta: MessageMeta {
            envelope: r.get(9)?,
            bodystructure: r.get(10)?,
            body: r.get(11)?,
            preview: r.get(28)?,
            ..MessageMeta::default()
        },
        email_id: r.get(19)?,
        thread_id: r.get(20)?,
        save_date: r.get(21)?,
    })
}

// ---------------------------------------------------------------- object ids

/// At most this many referenced Message-IDs are kept and looked up per
/// message (a hostile `References:` may name thousands).
pub const MAX_THREAD_REFS: usize = 64;

fn refs_to_text(refs: &[String]) -> String {
    refs.iter()
        .filter(|r| !r.is_empty() && !r.contains(char::is_whitespace))
        .take(MAX_THREAD_REFS)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(" ")
}

fn refs_from_text(s: &str) -> Vec<String> {
    s.split(' ').filter(|r| !r.is_empty()).map(str::to_string).collect()
}

/// The THREADID of the first message of the account (any mailbox) whose
/// Message-ID is one of `refs` (nearest parent first), if any (RFC 8474 §5.2).
fn thread_of_refs(conn: &Connection, refs: &[String]) -> Result<Option<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT thread_id FROM messages WHERE message_id = ?1 AND thread_id != '' ORDER BY rowid LIMIT 1",
    )?;
    for r in refs.iter().filter(|r| !r.is_empty()).take(MAX_THREAD_REFS) {
        if let Some(t) = stmt.query_row([r], |row| row.get::<_, String>(0)).optional()? {
            return Ok(Some(t));
        }
    }
    Ok(None)
}

// ---------------------------------------------------------------- Account

impl Account {
    /// Opens the account database at `path` (creating it with the default
    /// mailboxes if new) and starts its writer thread.
    pub(crate) fn open(
        id: AccountId,
        path: &Path,
        blobs: BlobStore,
        snapshots: Arc<SnapshotCache>,
        hook: Option<CommitHook>,
    ) -> Result<Account> {
        let conn = init_db(path)?;
        let hook = hook.map(|h| Box::new(move |changes: &[Change]| h(id, changes)) as OnCommit);
        let (feed, _) = broadcast::channel(FEED_CAPACITY);
        let (tx, rx) = mpsc::channel::<Box<dyn WriteJob>>();
        let commits = Arc::new(AtomicU64::new(0));
        let thread = {
            let feed = feed.clone();
            let commits = commits.clone();
            std::thread::Builder::new()
                .name(format!("store-writer-{}", id.0))
                .spawn(move || writer_loop(conn, rx, feed, commits, hook))?
        };
        Ok(Account {
            id,
            blobs,
            feed,
            writer: Some(tx),
            writer_thread: Some(thread),
            commits,
            readers: Arc::new(ReadPool { path: path.to_path_buf(), idle: Mutex::new(Vec::new()) }),
            snapshots,
        })
    }

    pub fn id(&self) -> AccountId {
        self.id
    }

    /// Number of write transactions committed since this handle was opened.
    /// Several concurrent writes share one (group commit).
    pub fn commit_count(&self) -> u64 {
        self.commits.load(Ordering::SeqCst)
    }

    /// The change feed: every committed change to this account.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.feed.subscribe()
    }

    /// Runs `f` on a read connection in a blocking task, inside one read
    /// transaction (a consistent snapshot).
    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let pool = self.readers.clone();
        tokio::task::spawn_blocking(move || pool.run(f)).await.map_err(|e| Error::Task(e.to_string()))?
    }

    /// [`Account::read`], or with `inline` on the caller's thread: a few
    /// point lookups cost less than the blocking pool's two thread switches
    /// (see `open_mailbox`).
    async fn read_where<T, F>(&self, inline: bool, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        if inline {
            return self.readers.run(f);
        }
        self.read(f).await
    }

    /// Queues `f` for the writer thread and waits until its transaction
    /// committed. `f` pushes the [`Change`]s to publish.
    async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &mut Vec<Change>) -> Result<T> + Send + 'static,
    {
        let (reply, rx) = oneshot::channel();
        let job: Box<dyn WriteJob> = Box::new(Job { f, reply });
        self.writer
            .as_ref()
            .ok_or_else(|| Error::Task("account is closing".into()))?
            .send(job)
            .map_err(|_| Error::Task("account writer has stopped".into()))?;
        rx.await.map_err(|_| Error::Task("account writer dropped the request".into()))?
    }

    // ----- mailboxes -----

    /// All mailboxes, sorted by name.
    pub async fn mailboxes(&self) -> Result<Vec<MailboxInfo>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!("SELECT {MAILBOX_COLS} FROM mailboxes ORDER BY name"))?;
            let rows = stmt.query_map([], mailbox_from_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    /// Looks a mailbox up by its full name (`INBOX` must already be normalised
    /// by the caller).
    pub async fn mailbox(&self, name: &str) -> Result<Option<MailboxInfo>> {
        let name = name.to_string();
        self.read(move |c| mailbox_by_name(c, &name)).await
    }

    /// Everything SELECT reads of the mailbox `name`, in one read transaction:
    /// its row, its current [`MailboxSnapshot`], whether it has children
    /// (`\HasChildren`) and whether messages arrived that no IMAP4rev1
    /// session has taken as `\Recent` yet ([`Account::recent`]).
    pub async fn open_mailbox(&self, name: &str) -> Result<Option<OpenedMailbox>> {
        // With the mailbox's snapshot cached and current, this is one
        // statement of indexed lookups in the mapped database, outside any
        // explicit transaction: it runs on the caller's thread, which saves
        // the two thread switches of the blocking pool (most of a warm
        // SELECT's cost, bench/RESULTS.md stop 11). Only when the snapshot
        // must be built or brought forward does it go to the pool.
        let (snapshots, id) = (self.snapshots.clone(), self.id);
        let warm = self.readers.with_conn(|c| open_in(c, name, |mb| Ok(snapshots.cached(id, mb))))?;
        if let Some(opened) = warm {
            return Ok(opened);
        }
        let name = name.to_string();
        self.read(move |c| {
            let opened = open_in(c, &name, |mb| snapshot_in(c, &snapshots, id, mb.id).map(Some))?;
            Ok(opened.flatten())
        })
        .await
    }

    /// Looks a mailbox up by id.
    pub async fn mailbox_by_id(&self, id: MailboxId) -> Result<Option<MailboxInfo>> {
        self.read(move |c| match mailbox_by_id(c, id) {
            Ok(m) => Ok(Some(m)),
            Err(Error::NoSuchMailbox(_)) => Ok(None),
            Err(e) => Err(e),
        })
        .await
    }

    /// Creates a mailbox and any missing parents (RFC 9051 §6.3.4). A new
    /// mailbox gets a fresh UIDVALIDITY, different from any earlier mailbox of
    /// the same name.
    pub async fn create_mailbox(&self, name: &str, special_use: Option<&str>) -> Result<MailboxId> {
        validate_mailbox_name(name)?;
        let name = name.to_string();
        let special_use = special_use.map(str::to_string);
        self.write(move |c, changes| {
            if mailbox_by_name(c, &name)?.is_some() {
                return Err(Error::MailboxExists(name));
            }
            create_parents(c, &name)?;
            let id = insert_mailbox(c, &name, special_use.as_deref())?;
            changes.push(Change::MailboxList);
            Ok(id)
        })
        .await
    }

    /// Deletes a mailbox and its messages (tombstones go with it). `INBOX` and
    /// mailboxes with children are refused.
    pub async fn delete_mailbox(&self, name: &str) -> Result<()> {
        if name == "INBOX" {
            return Err(Error::NotAllowed(name.to_string()));
        }
        let name = name.to_string();
        let (snapshots, id) = (self.snapshots.clone(), self.id);
        self.write(move |c, changes| {
            let mb = mailbox_by_name(c, &name)?.ok_or_else(|| Error::NoSuchMailbox(name.clone()))?;
            if !children(c, &name)?.is_empty() {
                return Err(Error::HasChildren(name));
            }
            c.execute("DELETE FROM messages WHERE mailbox_id = ?1", [mb.id.0])?;
            c.execute("DELETE FROM expunged WHERE mailbox_id = ?1", [mb.id.0])?;
            // RFC 5464 §4.1: a mailbox's annotations go with it.
            c.execute("DELETE FROM metadata WHERE mailbox_id = ?1", [mb.id.0])?;
            c.execute("DELETE FROM mailboxes WHERE id = ?1", [mb.id.0])?;
            snapshots.remove((id, mb.id));
            changes.push(Change::MailboxList);
            Ok(())
        })
        .await
    }

    /// Renames a mailbox and all its children. Renaming INBOX moves its
    /// messages to a new mailbox and leaves INBOX empty (RFC 9051 §6.3.6).
    ///
    /// Renamed mailboxes keep their id and UIDVALIDITY; missing parents of
    /// the new name are created; subscriptions of the old names move along.
    pub async fn rename_mailbox(&self, from: &str, to: &str) -> Result<()> {
        validate_mailbox_name(to)?;
        if to == "INBOX" {
            return Err(Error::MailboxExists(to.to_string()));
        }
        if to == from || (from != "INBOX" && to.starts_with(&format!("{from}/"))) {
            return Err(Error::NotAllowed(format!("cannot rename {from} to {to}")));
        }
        let (from, to) = (from.to_string(), to.to_string());
        self.write(move |c, changes| {
            let src = mailbox_by_name(c, &from)?.ok_or_else(|| Error::NoSuchMailbox(from.clone()))?;
            if mailbox_by_name(c, &to)?.is_some() || !children(c, &to)?.is_empty() {
                return Err(Error::MailboxExists(to));
            }
            if from == "INBOX" {
                // RFC 9051 §6.3.6: a new mailbox gets INBOX's messages; INBOX
                // stays, empty; its children are not renamed.
                create_parents(c, &to)?;
                let dest = insert_mailbox(c, &to, None)?;
                // RFC 5464 §4.1: INBOX's annotations are copied to the new
                // mailbox and stay on INBOX. (Other renames keep the id, so
                // their annotations follow by themselves.)
                c.execute(
                    "INSERT INTO metadata (mailbox_id, entry, value) SELECT ?2, entry, value FROM metadata WHERE mailbox_id = ?1",
                    params![src.id.0, dest.0],
                )?;
                let uids: Vec<u32> = {
                    let mut stmt = c.prepare_cached("SELECT uid FROM messages WHERE mailbox_id = ?1 ORDER BY uid")?;
                    let rows = stmt.query_map([src.id.0], |r| r.get::<_, i64>(0).map(|u| u as u32))?;
                    rows.collect::<rusqlite::Result<Vec<_>>>()?
                };
                let res = copy_rows(c, src.id, &uids, dest, changes)?;
                let moved: Vec<u32> = res.mapping.iter().map(|(s, _)| *s).collect();
                expunge_rows(c, src.id, &moved, changes)?;
                changes.push(Change::MailboxList);
                return Ok(());
            }
            let kids = children(c, &from)?;
            c.execute("UPDATE mailboxes SET name = ?2 WHERE id = ?1", params![src.id.0, to])?;
            for (id, name) in &kids {
                let new = format!("{to}{}", &name[from.len()..]);
                c.execute("UPDATE mailboxes SET name = ?2 WHERE id = ?1", params![id.0, new])?;
            }
            create_parents(c, &to)?;
            // Subscriptions follow the mailboxes.
            let mut olds = vec![from.clone()];
            olds.extend(kids.into_iter().map(|(_, n)| n));
            for old in olds {
                let n = c.execute("DELETE FROM subscriptions WHERE name = ?1", [&old])?;
                if n > 0 {
                    let new = format!("{to}{}", &old[from.len()..]);
                    c.execute("INSERT OR IGNORE INTO subscriptions (name) VALUES (?1)", [new])?;
                }
            }
            changes.push(Change::MailboxList);
            Ok(())
        })
        .await
    }

    /// Subscribes or unsubscribes a name (which need not exist, RFC 9051 §6.3.7).
    pub async fn set_subscribed(&self, name: &str, subscribed: bool) -> Result<()> {
        if name.is_empty() {
            return Err(Error::InvalidName(String::new()));
        }
        let name = name.to_string();
        self.write(move |c, changes| {
            if subscribed {
                c.execute("INSERT OR IGNORE INTO subscriptions (name) VALUES (?1)", [&name])?;
            } else {
                c.execute("DELETE FROM subscriptions WHERE name = ?1", [&name])?;
            }
            changes.push(Change::MailboxList);
            Ok(())
        })
        .await
    }

    /// Subscribed names, sorted.
    pub async fn subscriptions(&self) -> Result<Vec<String>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT name FROM subscriptions ORDER BY name")?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    pub async fn status(&self, mailbox: MailboxId) -> Result<MailboxStatus> {
        self.read(move |c| {
            let mb = mailbox_by_id(c, mailbox)?;
            let (messages, unseen, deleted, size, deleted_size): (i64, i64, i64, i64, i64) = c.query_row(
                "SELECT count(*),
                        coalesce(sum((flags & 1) = 0), 0),
                        coalesce(sum((flags & 8) != 0), 0),
                        coalesce(sum(size), 0),
                        coalesce(sum(CASE WHEN (flags & 8) != 0 THEN size ELSE 0 END), 0)
                 FROM messages WHERE mailbox_id = ?1",
                [mailbox.0],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )?;
            let recent: i64 = c
                .prepare_cached(
                    "SELECT count(*) FROM messages
                     WHERE mailbox_id = ?1 AND uid > (SELECT recent_uid FROM mailboxes WHERE id = ?1)",
                )?
                .query_row([mailbox.0], |r| r.get(0))?;
            Ok(MailboxStatus {
                messages: messages as u32,
                unseen: unseen as u32,
                deleted: deleted as u32,
                size: size as u64,
                uid_next: mb.uid_next,
                uid_validity: mb.uid_validity,
                highest_modseq: mb.highest_modseq,
                deleted_size: deleted_size as u64,
                recent: recent as u32,
            })
        })
        .await
    }

    /// RFC 3501 §2.3.2 `\Recent`: the messages no session has been told of
    /// yet, as a UID range (`None`: nothing new). With `claim` (a read-write
    /// IMAP4rev1 session that selected `mailbox` or is learning of new
    /// messages in it) they become the caller's, so that no other session
    /// sees them as recent; without (EXAMINE) they stay recent. Costs a write
    /// only when there is something to claim.
    pub async fn recent(&self, mailbox: MailboxId, claim: bool) -> Result<Option<std::ops::RangeInclusive<u32>>> {
        let (recent_uid, uid_next): (u32, u32) = self
            .read(move |c| {
                let mut stmt = c.prepare_cached("SELECT recent_uid, uidnext FROM mailboxes WHERE id = ?1")?;
                stmt.query_row([mailbox.0], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?
                    .ok_or_else(|| no_mailbox(mailbox))
            })
            .await?;
        if recent_uid + 1 >= uid_next {
            return Ok(None);
        }
        if !claim {
            return Ok(Some(recent_uid + 1..=uid_next - 1));
        }
        self.write(move |c, _| {
            let (old, last): (u32, u32) = c
                .prepare_cached("SELECT recent_uid, uidnext - 1 FROM mailboxes WHERE id = ?1")?
                .query_row([mailbox.0], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?
                .ok_or_else(|| no_mailbox(mailbox))?;
            if old >= last {
                return Ok(None);
            }
            c.prepare_cached("UPDATE mailboxes SET recent_uid = ?2 WHERE id = ?1")?.execute((mailbox.0, last))?;
            Ok(Some(old + 1..=last))
        })
        .await
    }

    // ----- messages -----

    /// Appends messages (one transaction; shares it with concurrent writers).
    /// Returns `(uid_validity, uids)`.
    pub async fn append(&self, mailbox: MailboxId, messages: Vec<NewMessage>) -> Result<(u32, Vec<u32>)> {
        let (uid_validity, uids, _) = self.append_within(mailbox, messages, QuotaLimits::default()).await?;
        Ok((uid_validity, uids))
    }

    /// [`Account::append`] within quota limits: the account's usage is read
    /// inside the write transaction, so no concurrent write (of this or
    /// another process) slips between check and insert. Over a limit, nothing
    /// is stored and the answer is [`Error::OverQuota`]. With limits, also
    /// returns the usage before and after.
    pub async fn append_within(
        &self,
        mailbox: MailboxId,
        messages: Vec<NewMessage>,
        limits: QuotaLimits,
    ) -> Result<(u32, Vec<u32>, Option<UsageChange>)> {
        self.replace_within(mailbox, messages, limits, None).await
    }

    /// [`Account::append_within`] that first expunges the message `replacing`
    /// (mailbox, UID), in the same transaction (RFC 8508 REPLACE): the quota
    /// sees only the net change, and if the append fails (over quota, missing
    /// blob), the old message stays. A `replacing` message that does not exist
    /// is [`Error::NotFound`] and nothing is stored.
    pub async fn replace_within(
        &self,
        mailbox: MailboxId,
        messages: Vec<NewMessage>,
        limits: QuotaLimits,
        replacing: Option<(MailboxId, u32)>,
    ) -> Result<(u32, Vec<u32>, Option<UsageChange>)> {
        for m in &messages {
            check_keywords(&m.flags)?;
        }
        let blobs = self.blobs.clone();
        self.write(move |c, changes| {
            if let Some((from, uid)) = replacing {
                if summaries_for(c, from, &[uid])?.is_empty() {
                    return Err(Error::NotFound(format!("message UID {uid}")));
                }
                expunge_rows(c, from, &[uid], changes)?;
            }
            let mb = mailbox_by_id(c, mailbox)?;
            let (uids, usage, _) = insert_messages(c, &blobs, &mb, messages, &limits, changes)?;
            Ok((mb.uid_validity, uids, usage))
        })
        .await
    }

    /// Delivery of one message (LMTP, `postfach deliver`, Sieve `fileinto`)
    /// into the mailbox `name`, or into INBOX when there is no such mailbox,
    /// within `limits`: lookup and append in one write transaction.
    pub async fn deliver(&self, name: &str, message: NewMessage, limits: QuotaLimits) -> Result<Delivered> {
        check_keywords(&message.flags)?;
        let (blobs, name) = (self.blobs.clone(), name.to_string());
        self.write(move |c, changes| {
            let (mb, fell_back) = match mailbox_by_name(c, &name)? {
                Some(mb) => (mb, false),
                None => (mailbox_by_name(c, "INBOX")?.ok_or_else(|| Error::NoSuchMailbox("INBOX".into()))?, true),
            };
            let (uids, usage, modseq) = insert_messages(c, &blobs, &mb, vec![message], &limits, changes)?;
            let uid = uids.first().copied().ok_or_else(|| Error::Task("append stored no message".into()))?;
            Ok(Delivered { mailbox: mb.id, fell_back, uid, modseq, usage })
        })
        .await
    }

    /// What SELECT needs: UIDs, keywords in use, first unseen message, as of
    /// the mailbox's current HIGHESTMODSEQ; from the process-wide cache when
    /// it is current (see [`crate::snapshot`]).
    pub async fn snapshot(&self, mailbox: MailboxId) -> Result<Arc<MailboxSnapshot>> {
        let (snapshots, id) = (self.snapshots.clone(), self.id);
        // Cached and current: one indexed lookup, on the caller's thread
        // (see `open_mailbox`).
        if let Some(warm) = self.readers.with_conn(|c| Ok(snapshots.cached(id, &mailbox_by_id(c, mailbox)?)))? {
            return Ok(warm);
        }
        self.read(move |c| snapshot_in(c, &snapshots, id, mailbox)).await
    }

    /// UID, MODSEQ and flags of every message, ascending by UID.
    pub async fn summaries(&self, mailbox: MailboxId) -> Result<Vec<MessageSummary>> {
        self.read(move |c| {
            let _ = mailbox_by_id(c, mailbox)?;
            let mut stmt = c.prepare_cached(
                "SELECT uid, modseq, flags, keywords FROM messages WHERE mailbox_id = ?1 ORDER BY uid",
            )?;
            let rows = stmt.query_map([mailbox.0], summary_from_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    /// What changed after `since` (DESIGN.md §3).
    pub async fn changes_since(&self, mailbox: MailboxId, since: u64) -> Result<Changes> {
        let since = since.min(i64::MAX as u64) as i64;
        self.read(move |c| {
            let mb = mailbox_by_id(c, mailbox)?;
            let changed = {
                let mut stmt = c.prepare_cached(
                    "SELECT uid, modseq, flags, keywords FROM messages
                     WHERE mailbox_id = ?1 AND modseq > ?2 ORDER BY uid",
                )?;
                let rows = stmt.query_map(params![mailbox.0, since], summary_from_row)?;
                rows.collect::<rusqlite::Result<Vec<_>>>()?
            };
            let expunged = {
                let mut stmt =
                    c.prepare_cached("SELECT uid FROM expunged WHERE mailbox_id = ?1 AND modseq > ?2 ORDER BY uid")?;
                let rows = stmt.query_map(params![mailbox.0, since], |r| r.get::<_, i64>(0).map(|u| u as u32))?;
                rows.collect::<rusqlite::Result<Vec<_>>>()?
            };
            let tombstone_floor: i64 =
                c.query_row("SELECT tombstone_floor FROM mailboxes WHERE id = ?1", [mailbox.0], |r| r.get(0))?;
            Ok(Changes {
                changed,
                expunged,
                highest_modseq: mb.highest_modseq,
                tombstone_floor: tombstone_floor as u64,
            })
        })
        .await
    }

    /// Full records for these UIDs (those that still exist), ascending.
    pub async fn records(&self, mailbox: MailboxId, uids: Vec<u32>) -> Result<Vec<MessageRecord>> {
        self.read(move |c| {
            let _ = mailbox_by_id(c, mailbox)?;
            rows_for(c, RECORD_COLS, mailbox, &uids, record_from_row)
        })
        .await
    }

    /// Stores computed PREVIEW texts (RFC 8970) of messages that had none
    /// (stored before PREVIEW existed). Derived data: no MODSEQ change.
    pub async fn set_previews(&self, mailbox: MailboxId, previews: Vec<(u32, String)>) -> Result<()> {
        self.write(move |c, _changes| {
            let mut stmt = c.prepare_cached(
                "UPDATE messages SET preview = ?3 WHERE mailbox_id = ?1 AND uid = ?2 AND preview IS NULL",
            )?;
            for (uid, preview) in previews {
                stmt.execute(params![mailbox.0, uid, preview])?;
            }
            Ok(())
        })
        .await
    }

    /// [`Account::records`] for FETCH: only the parts in `parts` are read
    /// (see [`FetchParts`]); MessageMeta's search and sort keys are empty
    /// unless asked for.
    pub async fn fetch_records(
        &self,
        mailbox: MailboxId,
        uids: Vec<u32>,
        parts: FetchParts,
    ) -> Result<Vec<MessageRecord>> {
        let inline = uids.len() <= INLINE_RECORDS;
        self.read_where(inline, move |c| {
            let _ = mailbox_by_id(c, mailbox)?;
            let map = if parts.keys { record_from_row } else { record_core_from_row };
            rows_for(c, &fetch_cols(parts), mailbox, &uids, map)
        })
        .await
    }

    /// Calls `visit` with `state` and each existing message of `uids`,
    /// ascending, borrowed from SQLite ([`RecordRef`]; only the large
    /// columns in `parts` are read, `parts.ids` and `parts.keys` are
    /// ignored), and returns `state`. What FETCH uses to encode responses
    /// straight into bytes: the visitor runs on the store's reader thread
    /// inside one read transaction, so it must only compute (invariant 5:
    /// nothing of the store is held while the caller writes to a socket).
    pub async fn visit_records<S, F>(
        &self,
        mailbox: MailboxId,
        uids: Vec<u32>,
        parts: FetchParts,
        mut state: S,
        mut visit: F,
    ) -> Result<S>
    where
        S: Send + 'static,
        F: FnMut(&mut S, &RecordRef<'_>) + Send + 'static,
    {
        let col = |wanted: bool, name: &'static str| if wanted { name } else { "x''" };
        let cols = format!(
            "uid, modseq, flags, keywords, internaldate, internaldate_zone, size, {}, {}, {}",
            col(parts.envelope, "envelope"),
            col(parts.bodystructure, "bodystructure"),
            col(parts.body, "body")
        );
        let inline = uids.len() <= INLINE_RECORDS;
        self.read_where(inline, move |c| {
            let _ = mailbox_by_id(c, mailbox)?;
            visit_rows(c, &cols, mailbox, &uids, |r| {
                let blob = |i: usize| r.get_ref(i).map(|v| v.as_blob().unwrap_or_default());
                let rec = RecordRef {
                    uid: r.get::<_, i64>(0)? as u32,
                    modseq: r.get::<_, i64>(1)? as u64,
                    system_flags: (r.get::<_, i64>(2)? & 0xff) as u8,
                    keywords: r.get_ref(3)?.as_str().unwrap_or_default(),
                    internal_date: r.get(4)?,
                    internal_date_zone: r.get::<_, i64>(5)? as i16,
                    size: r.get::<_, i64>(6)? as u64,
                    envelope: blob(7)?,
                    bodystructure: blob(8)?,
                    body: blob(9)?,
                };
                visit(&mut state, &rec);
                Ok(())
            })?;
            Ok(state)
        })
        .await
    }

    /// UID, MODSEQ and flags of these UIDs (those that exist), ascending:
    /// FETCH of flags alone. Answered from the mailbox's snapshot
    /// ([`Account::snapshot`], checked against HIGHESTMODSEQ in the same read
    /// transaction), so no message row is read.
    pub async fn summaries_of(&self, mailbox: MailboxId, mut uids: Vec<u32>) -> Result<Vec<MessageSummary>> {
        let (snapshots, id) = (self.snapshots.clone(), self.id);
        self.read(move |c| {
            let snap = snapshot_in(c, &snapshots, id, mailbox)?;
            uids.sort_unstable();
            uids.dedup();
            Ok(uids.iter().filter_map(|u| snap.uids.binary_search(u).ok()).map(|i| snap.summary(i)).collect())
        })
        .await
    }

    /// Changes flags. Messages whose flags really change get a new MODSEQ;
    /// with `unchanged_since`, messages whose MODSEQ is greater are left alone
    /// and returned in the second list (RFC 7162 §3.1.3). Returns the new
    /// state of every message in `uids` that exists.
    ///
    /// The first list holds every existing message of `uids` that was not
    /// refused by `unchanged_since`, ascending, whether or not its flags
    /// changed; the second list (ascending) holds the refused UIDs.
    pub async fn store_flags(
        &self,
        mailbox: MailboxId,
        uids: Vec<u32>,
        op: FlagOp,
        flags: Flags,
        unchanged_since: Option<u64>,
    ) -> Result<(Vec<MessageSummary>, Vec<u32>)> {
        check_keywords(&flags)?;
        let flags = normalized(flags);
        self.write(move |c, changes| {
            let _ = mailbox_by_id(c, mailbox)?;
            let current = summaries_for(c, mailbox, &uids)?;
            let mut failed = Vec::new();
            let mut result = Vec::with_capacity(current.len());
            let mut to_change: Vec<usize> = Vec::new();
            for s in current {
                if unchanged_since.is_some_and(|u| s.modseq > u) {
                    failed.push(s.uid);
                    continue;
                }
                let new = apply_flags(&s.flags, op, &flags);
                if !same_flags(&new, &s.flags) {
                    to_change.push(result.len());
                }
                result.push(MessageSummary { uid: s.uid, modseq: s.modseq, flags: new });
            }
            if !to_change.is_empty() {
                let modseq = bump_modseq(c, mailbox)?;
                let mut stmt = c.prepare_cached(
                    "UPDATE messages SET flags = ?3, keywords = ?4, modseq = ?5 WHERE mailbox_id = ?1 AND uid = ?2",
                )?;
                for i in to_change {
                    let s = &mut result[i];
                    s.modseq = modseq;
                    stmt.execute(params![
                        mailbox.0,
                        s.uid,
                        i64::from(s.flags.system),
                        keywords_to_text(&s.flags.keywords),
                        modseq as i64
                    ])?;
                }
                changes.push(Change::Mailbox { mailbox, modseq });
            }
            Ok((result, failed))
        })
        .await
    }

    /// Expunges messages flagged `\Deleted` (only those in `uids` when given),
    /// leaving tombstones. Returns the expunged UIDs, ascending.
    pub async fn expunge(&self, mailbox: MailboxId, uids: Option<Vec<u32>>) -> Result<Vec<u32>> {
        self.write(move |c, changes| {
            let _ = mailbox_by_id(c, mailbox)?;
            let deleted: Vec<u32> = {
                let mut stmt = c.prepare_cached(
                    "SELECT uid FROM messages WHERE mailbox_id = ?1 AND (flags & 8) != 0 ORDER BY uid",
                )?;
                let rows = stmt.query_map([mailbox.0], |r| r.get::<_, i64>(0).map(|u| u as u32))?;
                rows.collect::<rusqlite::Result<Vec<_>>>()?
            };
            let deleted = match uids {
                None => deleted,
                Some(only) => {
                    let only: HashSet<u32> = only.into_iter().collect();
                    deleted.into_iter().filter(|u| only.contains(u)).collect()
                }
            };
            expunge_rows(c, mailbox, &deleted, changes)?;
            Ok(deleted)
        })
        .await
    }

    /// Removes tombstones of messages expunged before `expunged_before` (Unix
    /// seconds) and raises each mailbox's tombstone floor to the highest
    /// MODSEQ removed, so QRESYNC knows its answer must be the full one.
    /// Returns how many tombstones were removed.
    pub async fn prune_tombstones(&self, expunged_before: i64) -> Result<usize> {
        self.write(move |c, _changes| {
            c.execute(
                "UPDATE mailboxes SET tombstone_floor = MAX(tombstone_floor,
                    (SELECT COALESCE(MAX(modseq), 0) FROM expunged
                     WHERE expunged.mailbox_id = mailboxes.id AND expunged_at < ?1))",
                [expunged_before],
            )?;
            Ok(c.execute("DELETE FROM expunged WHERE expunged_at < ?1", [expunged_before])?)
        })
        .await
    }

    /// Copies messages (same blob, new UIDs, flags kept).
    pub async fn copy(&self, from: MailboxId, uids: Vec<u32>, to: MailboxId) -> Result<CopyResult> {
        self.write(move |c, changes| copy_rows(c, from, &uids, to, changes)).await
    }

    /// [`Account::copy`] within quota limits, checked inside the write
    /// transaction (see [`Account::append_within`]).
    pub async fn copy_within(
        &self,
        from: MailboxId,
        uids: Vec<u32>,
        to: MailboxId,
        limits: QuotaLimits,
    ) -> Result<(CopyResult, Option<UsageChange>)> {
        self.write(move |c, changes| {
            if limits.is_unlimited() {
                return Ok((copy_rows(c, from, &uids, to, changes)?, None));
            }
            let before = usage(c)?;
            let res = copy_rows(c, from, &uids, to, changes)?;
            let after = usage(c)?;
            let added = (after.storage.saturating_sub(before.storage), after.messages.saturating_sub(before.messages));
            if let Some(r) = limits.refuses(&before, added.0, added.1) {
                // The savepoint of this job rolls the copy back.
                return Err(Error::OverQuota(r.to_string()));
            }
            Ok((res, Some(UsageChange { before, after })))
        })
        .await
    }

    /// The account's usage: sum of RFC822.SIZE and number of messages over
    /// all mailboxes (RFC 9208 STORAGE, MESSAGE).
    pub async fn usage(&self) -> Result<QuotaUsage> {
        self.read(usage).await
    }

    /// Moves messages atomically: copy and expunge in one transaction (RFC 6851).
    pub async fn move_messages(&self, from: MailboxId, uids: Vec<u32>, to: MailboxId) -> Result<CopyResult> {
        self.write(move |c, changes| {
            let res = copy_rows(c, from, &uids, to, changes)?;
            let moved: Vec<u32> = res.mapping.iter().map(|(s, _)| *s).collect();
            expunge_rows(c, from, &moved, changes)?;
            Ok(res)
        })
        .await
    }

    pub fn blobs(&self) -> &BlobStore {
        &self.blobs
    }

    /// Publishes a change that another process committed to this account's
    /// database (`postfach deliver`), so this process's sessions see it.
    pub fn publish_external(&self, change: Change) {
        let _ = self.feed.send(change);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(system: u8, kw: &[&str]) -> Flags {
        Flags { system, keywords: kw.iter().map(|s| s.to_string()).collect() }
    }

    #[test]
    fn flag_ops() {
        let old = f(Flags::SEEN, &["$Junk", "work"]);
        let add = apply_flags(&old, FlagOp::Add, &f(Flags::FLAGGED, &["WORK", "home"]));
        assert_eq!(add, f(Flags::SEEN | Flags::FLAGGED, &["home", "$Junk", "work"]).tap_sort());
        assert_eq!(add.keywords, vec!["$Junk", "home", "work"]);
        let rem = apply_flags(&old, FlagOp::Remove, &f(Flags::SEEN, &["WORK"]));
        assert_eq!(rem, f(0, &["$Junk"]));
        let rep = apply_flags(&old, FlagOp::Replace, &f(Flags::DRAFT, &[]));
        assert_eq!(rep, f(Flags::DRAFT, &[]));
        assert!(same_flags(&apply_flags(&old, FlagOp::Add, &f(Flags::SEEN, &["Work"])), &normalized(old.clone())));
    }

    trait TapSort {
        fn tap_sort(self) -> Self;
    }
    impl TapSort for Flags {
        fn tap_sort(mut self) -> Self {
            self.normalize();
            self
        }
    }

    #[test]
    fn mailbox_names() {
        for ok in ["INBOX", "a", "a/b/c", "Ünïcödé/x"] {
            assert!(validate_mailbox_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "/a", "a/", "a//b", "a*", "b%", "a\u{1}"] {
            assert!(validate_mailbox_name(bad).is_err(), "{bad:?}");
        }
    }

    fn open_tmp() -> (tempfile::TempDir, Account) {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobStore::new(dir.path().join("blobs"));
        let acc = Account::open(AccountId(1), &dir.path().join("index.sqlite"), blobs, Arc::default(), None).unwrap();
        (dir, acc)
    }

    /// Reads do not queue behind the writer: a read completes while a slow
    /// write job holds the write transaction open.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reads_bypass_the_writer() {
        let (_dir, acc) = open_tmp();
        let acc = Arc::new(acc);
        let (started_tx, started_rx) = oneshot::channel::<()>();
        let slow = {
            let acc = acc.clone();
            tokio::spawn(async move {
                acc.write(move |c, _| {
                    c.execute("UPDATE mailboxes SET special_use = 'x' WHERE name = 'INBOX'", [])?;
                    let _ = started_tx.send(());
                    std::thread::sleep(std::time::Duration::from_millis(500));
                    Ok(())
                })
                .await
            })
        };
        started_rx.await.unwrap();
        let t = std::time::Instant::now();
        let list = acc.mailboxes().await.unwrap();
        assert!(t.elapsed() < std::time::Duration::from_millis(400), "read waited for the writer");
        // and it saw the last committed state, not the open transaction
        assert!(list.iter().all(|m| m.special_use.as_deref() != Some("x")));
        assert!(!slow.is_finished());
        slow.await.unwrap().unwrap();
        assert_eq!(acc.mailbox("INBOX").await.unwrap().unwrap().special_use.as_deref(), Some("x"));
    }

    /// A panicking job is rolled back; the writer keeps serving.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writer_survives_a_panicking_job() {
        let (_dir, acc) = open_tmp();
        let r: Result<()> = acc
            .write(|c, _| {
                c.execute("DELETE FROM mailboxes", [])?;
                panic!("boom");
            })
            .await;
        assert!(matches!(r, Err(Error::Task(_))));
        assert_eq!(acc.mailboxes().await.unwrap().len(), DEFAULT_MAILBOXES.len());
        acc.create_mailbox("after", None).await.unwrap();
    }

    /// Dropping the last handle ends the writer thread and closes every
    /// connection (SQLite removes the WAL file when the last one closes).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writer_thread_exits_on_drop() {
        let (dir, acc) = open_tmp();
        acc.create_mailbox("x", None).await.unwrap();
        let _ = acc.mailboxes().await.unwrap();
        let wal = dir.path().join("index.sqlite-wal");
        assert!(wal.exists());
        drop(acc);
        assert!(!wal.exists(), "a connection is still open");
    }

    /// Migration 3 gives existing mailboxes and messages object ids: distinct
    /// MAILBOXIDs, and copies of one message (same blob and prefix) one
    /// EMAILID and THREADID; the save date of old rows is their INTERNALDATE.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn migration_3_backfills_object_ids() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index.sqlite");
        {
            let mut c = db::open_rw(&path).unwrap();
            db::migrate(&mut c, &db::ACCOUNT_MIGRATIONS[..2]).unwrap();
            c.execute_batch(
                "INSERT INTO mailboxes (id, name, uidvalidity) VALUES (1, 'INBOX', 1), (2, 'Archive', 2);
                 INSERT INTO messages (mailbox_id, uid, modseq, internaldate, size, blob) VALUES
                    (1, 1, 1, 1000, 1, 'aa'), (2, 1, 1, 2000, 1, 'aa'), (1, 2, 1, 3000, 1, 'bb');",
            )
            .unwrap();
        }
        let blobs = BlobStore::new(dir.path().join("blobs"));
        let acc = Account::open(AccountId(1), &path, blobs, Arc::default(), None).unwrap();
        let mbs = acc.mailboxes().await.unwrap();
        assert_eq!(mbs.len(), 2);
        for m in &mbs {
            assert!(m.object_id.starts_with('F') && m.object_id.len() == 25, "{}", m.object_id);
        }
        assert_ne!(mbs[0].object_id, mbs[1].object_id);
        let inbox = acc.records(MailboxId(1), vec![1, 2]).await.unwrap();
        let archive = acc.records(MailboxId(2), vec![1]).await.unwrap();
        assert_eq!(inbox[0].email_id, archive[0].email_id);
        assert_eq!(inbox[0].thread_id, archive[0].thread_id);
        assert_ne!(inbox[0].email_id, inbox[1].email_id);
        assert_ne!(inbox[0].thread_id, inbox[1].thread_id);
        assert!(inbox[1].email_id.starts_with('M') && inbox[1].thread_id.starts_with('T'));
        assert_eq!((inbox[0].save_date, archive[0].save_date, inbox[1].save_date), (1000, 2000, 3000));
        // New mailboxes get their own id too.
        let id = acc.create_mailbox("new", None).await.unwrap();
        let new = acc.mailbox_by_id(id).await.unwrap().unwrap();
        assert!(new.object_id.starts_with('F') && !mbs.iter().any(|m| m.object_id == new.object_id));
    }

    #[test]
    fn keywords_roundtrip() {
        let k = vec!["$Forwarded".to_string(), "x".to_string()];
        assert_eq!(keywords_from_text(&keywords_to_text(&k)), k);
        assert!(keywords_from_text("").is_empty());
    }
}
