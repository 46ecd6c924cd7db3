//! The global directory (`DATA/directory.sqlite`): accounts and their password
//! hashes, delivery addresses and served domains, and the process-wide cache of open accounts so that every session of
//! one account shares one writer and one change feed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::time::{Duration, Instant};

use rusqlite::{params, Connection, OptionalExtension};

use crate::snapshot::SnapshotCache;
use crate::{
    db, Account, AccountId, AccountInfo, AddressInfo, BlobStore, Change, Error, QuotaInfo, QuotaLimits, Recipient,
    Result,
};

/// The store of one data directory. Cheap to clone (an `Arc` inside).
#[derive(Clone)]
pub struct Store {
    inner: Arc<StoreInner>,
}

struct StoreInner {
    data_dir: PathBuf,
    blobs: BlobStore,
    /// Connection to `directory.sqlite`. Statements outside a transaction
    /// see other processes' commits (WAL), so reads are always fresh.
    directory: Mutex<Connection>,
    /// Open accounts. Weak, so an account closes (its writer thread ends)
    /// when its last session goes.
    accounts: Mutex<HashMap<AccountId, Weak<Account>>>,
    /// Accounts used in the last [`KEEP_OPEN_FOR`], at most [`KEEP_OPEN_MAX`],
    /// held open after their last session goes: mail clients (phones above
    /// all) reconnect every few seconds, and reopening an account costs its
    /// database connections and prepared statements again (a first SELECT
    /// took twice as long as the next).
    kept: Mutex<HashMap<AccountId, (Arc<Account>, Instant)>>,
    /// Mailbox snapshots for SELECT, shared by all accounts' handles and
    /// kept when the last session of an account goes.
    snapshots: Arc<SnapshotCache>,
    /// Given to every account opened after it is set.
    commit_hook: OnceLock<crate::CommitHook>,
}

/// How long an account stays open after it was last handed out.
pub const KEEP_OPEN_FOR: Duration = Duration::from_secs(30);
/// At most this many accounts are held open without a session (each holds a
/// writer thread and a few database files).
pub const KEEP_OPEN_MAX: usize = 32;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Lower-cases and checks a login name.
fn normalize_name(name: &str) -> Result<String> {
    let n = name.trim().to_lowercase();
    if n.is_empty() || n.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(Error::InvalidName(name.to_string()));
    }
    Ok(n)
}

impl Store {
    /// Opens (creating if needed) the data directory: `directory.sqlite`,
    /// `accounts/`, `blobs/`.
    pub fn open(data_dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(data_dir.join("accounts"))?;
        std::fs::create_dir_all(data_dir.join("blobs").join("tmp"))?;
        let mut conn = db::open_rw(&data_dir.join("directory.sqlite"))?;
        db::migrate(&mut conn, db::DIRECTORY_MIGRATIONS)?;
        Ok(Store {
            inner: Arc::new(StoreInner {
                data_dir: data_dir.to_path_buf(),
                blobs: BlobStore::new(data_dir.join("blobs")),
                directory: Mutex::new(conn),
                accounts: Mutex::new(HashMap::new()),
                kept: Mutex::new(HashMap::new()),
                snapshots: Arc::default(),
                commit_hook: OnceLock::new(),
            }),
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.inner.data_dir
    }

    pub fn blobs(&self) -> &BlobStore {
        &self.inner.blobs
    }

    /// Directory of one account's database.
    fn account_dir(&self, id: AccountId) -> PathBuf {
        self.inner.data_dir.join("accounts").join(id.0.to_string())
    }

    /// Creates an account with the default mailboxes (INBOX, Sent, Drafts,
    /// Trash, Junk, Archive with their RFC 6154 special use), all subscribed.
    /// Names are matched case-insensitively (stored lower-case).
    pub fn create_account(&self, name: &str, password_hash: &str) -> Result<AccountId> {
        let name = normalize_name(name)?;
        let mut conn = lock(&self.inner.directory);
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let exists: Option<i64> =
            tx.query_row("SELECT id FROM accounts WHERE name = ?1", [&name], |r| r.get(0)).optional()?;
        if exists.is_some() {
            return Err(Error::AccountExists(name));
        }
        tx.execute(
            "INSERT INTO accounts (name, password_hash, created) VALUES (?1, ?2, ?3)",
            params![name, password_hash, db::now()],
        )?;
        let id = AccountId(tx.last_insert_rowid());
        let dir = self.account_dir(id);
        // The account database is created (with its default mailboxes) before
        // the directory row commits, so a listed account always has one.
        let created = (|| -> Result<()> {
            std::fs::create_dir_all(&dir)?;
            let conn = crate::account::init_db(&dir.join("index.sqlite"))?;
            drop(conn);
            Ok(())
        })();
        if let Err(e) = created.and_then(|()| Ok(tx.commit()?)) {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e);
        }
        Ok(id)
    }

    /// Removes an account and its database directory. An already open handle
    /// of the account keeps working on the unlinked files until it is dropped.
    pub fn delete_account(&self, name: &str) -> Result<()> {
        let name = normalize_name(name)?;
        let id = {
            let conn = lock(&self.inner.directory);
            let id: Option<i64> =
                conn.query_row("SELECT id FROM accounts WHERE name = ?1", [&name], |r| r.get(0)).optional()?;
            let Some(id) = id else {
                return Err(Error::NoSuchAccount(name));
            };
            conn.execute("DELETE FROM accounts WHERE id = ?1", [id])?;
            AccountId(id)
        };
        lock(&self.inner.accounts).remove(&id);
        lock(&self.inner.kept).remove(&id);
        let dir = self.account_dir(id);
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    pub fn list_accounts(&self) -> Result<Vec<AccountInfo>> {
        let conn = lock(&self.inner.directory);
        let mut stmt = conn.prepare_cached("SELECT id, name FROM accounts ORDER BY name")?;
        let rows = stmt.query_map([], |r| Ok(AccountInfo { id: AccountId(r.get(0)?), name: r.get(1)? }))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    pub fn set_password_hash(&self, name: &str, password_hash: &str) -> Result<()> {
        let name = normalize_name(name)?;
        let conn = lock(&self.inner.directory);
        let n = conn.execute("UPDATE accounts SET password_hash = ?2 WHERE name = ?1", params![name, password_hash])?;
        if n == 0 {
            return Err(Error::NoSuchAccount(name));
        }
        Ok(())
    }

    /// The account id and password hash for a login name, read fresh from the
    /// database (so `postfach user …` works while the server runs).
    pub fn password_hash(&self, name: &str) -> Result<Option<(AccountId, String)>> {
        let Ok(name) = normalize_name(name) else {
            return Ok(None);
        };
        let conn = lock(&self.inner.directory);
        let row = conn
            .query_row("SELECT id, password_hash FROM accounts WHERE name = ?1", [&name], |r| {
                Ok((AccountId(r.get(0)?), r.get::<_, String>(1)?))
            })
            .optional()?;
        Ok(row)
    }

    /// The id of an account by login name (case-insensitive).
    pub fn account_id(&self, name: &str) -> Result<Option<AccountId>> {
        Ok(self.password_hash(name)?.map(|(id, _)| id))
    }

    /// Opens an account, or returns the already open handle.
    pub fn account(&self, id: AccountId) -> Result<Arc<Account>> {
        let acc = self.open_account(id)?;
        self.keep_open(id, &acc);
        Ok(acc)
    }

    /// Holds `acc` open for [`KEEP_OPEN_FOR`] from now; lets go of accounts
    /// not handed out for that long, and of the least recently used beyond
    /// [`KEEP_OPEN_MAX`].
    fn keep_open(&self, id: AccountId, acc: &Arc<Account>) {
        let now = Instant::now();
        let mut kept = lock(&self.inner.kept);
        kept.insert(id, (acc.clone(), now));
        kept.retain(|_, (_, used)| now.duration_since(*used) < KEEP_OPEN_FOR);
        while kept.len() > KEEP_OPEN_MAX {
            let Some(oldest) = kept.iter().min_by_key(|(_, (_, used))| *used).map(|(k, _)| *k) else { break };
            kept.remove(&oldest);
        }
    }

    /// Lets go of the accounts held open without a session (they close
    /// when their last handle goes).
    pub fn close_unused(&self) {
        let kept = std::mem::take(&mut *lock(&self.inner.kept));
        drop(kept);
    }

    fn open_account(&self, id: AccountId) -> Result<Arc<Account>> {
        let mut open = lock(&self.inner.accounts);
        if let Some(acc) = open.get(&id).and_then(Weak::upgrade) {
            return Ok(acc);
        }
        let known: Option<i64> = lock(&self.inner.directory)
            .query_row("SELECT id FROM accounts WHERE id = ?1", [id.0], |r| r.get(0))
            .optional()?;
        if known.is_none() {
            return Err(Error::NoSuchAccount(format!("#{}", id.0)));
        }
        let dir = self.account_dir(id);
        std::fs::create_dir_all(&dir)?;
        let acc = Arc::new(Account::open(
            id,
            &dir.join("index.sqlite"),
            self.inner.blobs.clone(),
            self.inner.snapshots.clone(),
            self.inner.commit_hook.get().cloned(),
        )?);
        open.retain(|_, w| w.strong_count() > 0);
        open.insert(id, Arc::downgrade(&acc));
        Ok(acc)
    }
}

/// Lower-cases and checks a domain name (no `@`, no spaces or control characters).
fn normalize_domain(name: &str) -> Result<String> {
    let d = name.trim().trim_end_matches('.').to_lowercase();
    if d.is_empty() || d.contains('@') || d.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(Error::InvalidName(name.to_string()));
    }
    Ok(d)
}

/// Lower-cases and checks an address: `local@domain`, or `@domain` (catch-all).
fn normalize_address(address: &str) -> Result<String> {
    let a = address.trim().to_lowercase();
    let bad = || Error::InvalidName(address.to_string());
    let (local, domain) = a.rsplit_once('@').ok_or_else(bad)?;
    if local.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(bad());
    }
    let domain = normalize_domain(domain).map_err(|_| bad())?;
    Ok(format!("{local}@{domain}"))
}

fn account_by_name(conn: &Connection, name: &str) -> Result<Option<(AccountId, String)>> {
    let mut stmt = conn.prepare_cached("SELECT id, name FROM accounts WHERE name = ?1")?;
    Ok(stmt.query_row([name], |r| Ok((AccountId(r.get(0)?), r.get(1)?))).optional()?)
}

fn account_by_address(conn: &Connection, address: &str) -> Result<Option<(AccountId, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT a.id, a.name FROM addresses d JOIN accounts a ON a.id = d.account_id WHERE d.address = ?1",
    )?;
    Ok(stmt.query_row([address], |r| Ok((AccountId(r.get(0)?), r.get(1)?))).optional()?)
}

/// True if mail for `name@domain` may go to the account `name`: the domain is
/// listed, or no domain is listed at all.
fn domain_served(conn: &Connection, domain: &str) -> Result<bool> {
    let mut stmt = conn.prepare_cached(
        "SELECT NOT EXISTS (SELECT 1 FROM domains) OR EXISTS (SELECT 1 FROM domains WHERE name = ?1)",
    )?;
    Ok(stmt.query_row([domain], |r| r.get(0))?)
}

impl Store {
    /// Adds a domain the server receives mail for.
    pub fn add_domain(&self, name: &str) -> Result<()> {
        let name = normalize_domain(name)?;
        let conn = lock(&self.inner.directory);
        if conn.execute("INSERT OR IGNORE INTO domains (name) VALUES (?1)", [&name])? == 0 {
            return Err(Error::Exists(format!("domain {name}")));
        }
        Ok(())
    }

    pub fn delete_domain(&self, name: &str) -> Result<()> {
        let name = normalize_domain(name)?;
        let conn = lock(&self.inner.directory);
        if conn.execute("DELETE FROM domains WHERE name = ?1", [&name])? == 0 {
            return Err(Error::NotFound(format!("domain {name}")));
        }
        Ok(())
    }

    /// Served domains, sorted.
    pub fn list_domains(&self) -> Result<Vec<String>> {
        let conn = lock(&self.inner.directory);
        let mut stmt = conn.prepare_cached("SELECT name FROM domains ORDER BY name")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Assigns an address (`local@domain`, or `@domain` for the domain's
    /// catch-all) to an account. An address belongs to one account.
    pub fn add_address(&self, address: &str, account: &str) -> Result<()> {
        let address = normalize_address(address)?;
        let account = normalize_name(account)?;
        let conn = lock(&self.inner.directory);
        let Some((id, _)) = account_by_name(&conn, &account)? else {
            return Err(Error::NoSuchAccount(account));
        };
        let n = conn
            .execute("INSERT OR IGNORE INTO addresses (address, account_id) VALUES (?1, ?2)", params![address, id.0])?;
        if n == 0 {
            return Err(Error::Exists(format!("address {address}")));
        }
        Ok(())
    }

    pub fn delete_address(&self, address: &str) -> Result<()> {
        let address = normalize_address(address)?;
        let conn = lock(&self.inner.directory);
        if conn.execute("DELETE FROM addresses WHERE address = ?1", [&address])? == 0 {
            return Err(Error::NotFound(format!("address {address}")));
        }
        Ok(())
    }

    /// Every assigned address with its account, sorted by address.
    pub fn list_addresses(&self) -> Result<Vec<AddressInfo>> {
        let conn = lock(&self.inner.directory);
        let mut stmt = conn.prepare_cached(
            "SELECT d.address, a.name FROM addresses d JOIN accounts a ON a.id = d.account_id ORDER BY d.address",
        )?;
        let rows = stmt.query_map([], |r| Ok(AddressInfo { address: r.get(0)?, account: r.get(1)? }))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The account that receives mail for `address` (DESIGN.md §4), or `None`.
    /// Matching is case-insensitive; `<…>` around the address is ignored.
    /// In order:
    /// 1. an assigned address, or an account whose name is the whole string
    ///    (`alice`, or an account named `alice@example.org`);
    /// 2. `local+detail@domain` (`separator` = `+`, RFC 5233): `local@domain`
    ///    as an assigned address, or `local` as an account name when the
    ///    domain is served (or no domain is given); the detail is kept;
    /// 3. `name@domain` with a served domain → the account `name`;
    /// 4. the domain's catch-all (`@domain`).
    pub fn resolve_recipient(&self, address: &str, separator: &str) -> Result<Option<Recipient>> {
        let a = address.trim();
        let a = a.strip_prefix('<').and_then(|x| x.strip_suffix('>')).unwrap_or(a).to_lowercase();
        if a.is_empty() || a.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Ok(None);
        }
        let (local, domain) = match a.rsplit_once('@') {
            Some((l, d)) => (l, Some(d)),
            None => (a.as_str(), None),
        };
        let conn = lock(&self.inner.directory);
        let found = |hit: Option<(AccountId, String)>, detail: Option<&str>| {
            hit.map(|(account, name)| Recipient { account, name, detail: detail.map(str::to_string) })
        };
        if let Some(r) = found(account_by_address(&conn, &a)?, None).or(found(account_by_name(&conn, &a)?, None)) {
            return Ok(Some(r));
        }
        let served = match domain {
            Some(d) => domain_served(&conn, d)?,
            None => true,
        };
        let split = if separator.is_empty() { None } else { local.split_once(separator) };
        let split = split.filter(|(base, _)| !base.is_empty());
        if let Some((base, detail)) = split {
            if let Some(d) = domain {
                if let Some(r) = found(account_by_address(&conn, &format!("{base}@{d}"))?, Some(detail)) {
                    return Ok(Some(r));
                }
            }
            if served {
                if let Some(r) = found(account_by_name(&conn, base)?, Some(detail)) {
                    return Ok(Some(r));
                }
            }
        }
        let Some(d) = domain else { return Ok(None) };
        if served {
            if let Some(r) = found(account_by_name(&conn, local)?, None) {
                return Ok(Some(r));
            }
        }
        Ok(found(account_by_address(&conn, &format!("@{d}"))?, None))
    }

    /// The account's handle if some session in this process has it open
    /// (to pass on a change made by another process), without opening it.
    pub fn account_if_open(&self, id: AccountId) -> Option<Arc<Account>> {
        lock(&self.inner.accounts).get(&id).and_then(Weak::upgrade)
    }

    /// Sets the hook every account opened from now on calls with its
    /// committed changes (the server's worker processes forward them to each
    /// other). Set it before any account opens; a second call is ignored.
    pub fn set_commit_hook(&self, hook: crate::CommitHook) {
        let _ = self.inner.commit_hook.set(hook);
    }

    /// Passes a change to the sessions of every account open in this process
    /// (a server-wide METADATA entry changed by `postfach metadata`).
    pub fn publish_all(&self, change: Change) {
        let open: Vec<Arc<Account>> = lock(&self.inner.accounts).values().filter_map(Weak::upgrade).collect();
        for acc in open {
            acc.publish_external(change.clone());
        }
    }

    /// Passes a change committed by another process (`postfach deliver`) to
    /// the sessions of this process that have the account open.
    pub fn publish_external(&self, id: AccountId, change: Change) {
        if let Some(acc) = self.account_if_open(id) {
            acc.publish_external(change);
        }
    }
}

fn limit_to_sql(v: Option<u64>) -> Option<i64> {
    v.map(|v| v.min(i64::MAX as u64) as i64)
}

fn limit_from_sql(v: Option<i64>) -> Option<u64> {
    v.map(|v| v.max(0) as u64)
}

/// Quotas (RFC 9208): limits and the warned flag live in the directory; usage
/// is computed from the account's messages ([`Account::usage`]).
impl Store {
    /// Sets both limits of an account (`None` = unlimited).
    pub fn set_quota(&self, name: &str, limits: QuotaLimits) -> Result<()> {
        let name = normalize_name(name)?;
        let conn = lock(&self.inner.directory);
        let n = conn.execute(
            "UPDATE accounts SET quota_storage = ?2, quota_messages = ?3 WHERE name = ?1",
            params![name, limit_to_sql(limits.storage), limit_to_sql(limits.messages)],
        )?;
        if n == 0 {
            return Err(Error::NoSuchAccount(name));
        }
        Ok(())
    }

    /// An account's limits, read fresh (so `postfach quota set` applies to a
    /// running server at once). An unknown account has none.
    pub fn quota_limits(&self, id: AccountId) -> Result<QuotaLimits> {
        let conn = lock(&self.inner.directory);
        let mut stmt = conn.prepare_cached("SELECT quota_storage, quota_messages FROM accounts WHERE id = ?1")?;
        let row = stmt
            .query_row([id.0], |r| {
                Ok(QuotaLimits { storage: limit_from_sql(r.get(0)?), messages: limit_from_sql(r.get(1)?) })
            })
            .optional()?;
        Ok(row.unwrap_or_default())
    }

    /// Every account's quota settings, sorted by name.
    pub fn list_quotas(&self) -> Result<Vec<QuotaInfo>> {
        let conn = lock(&self.inner.directory);
        let mut stmt = conn.prepare_cached(
            "SELECT id, name, quota_storage, quota_messages, quota_warned FROM accounts ORDER BY name",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(QuotaInfo {
                id: AccountId(r.get(0)?),
                name: r.get(1)?,
                limits: QuotaLimits { storage: limit_from_sql(r.get(2)?), messages: limit_from_sql(r.get(3)?) },
                warned: r.get::<_, i64>(4)? != 0,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// One account's quota settings by login name.
    pub fn quota_info(&self, name: &str) -> Result<QuotaInfo> {
        let name = normalize_name(name)?;
        self.list_quotas()?.into_iter().find(|q| q.name == name).ok_or(Error::NoSuchAccount(name))
    }

    /// Sets the "usage warning delivered" flag. Returns true when the flag
    /// changed (so of two concurrent writers only one sends the warning).
    pub fn set_quota_warned(&self, id: AccountId, warned: bool) -> Result<bool> {
        let conn = lock(&self.inner.directory);
        let n = conn.execute(
            "UPDATE accounts SET quota_warned = ?2 WHERE id = ?1 AND quota_warned != ?2",
            params![id.0, i64::from(warned)],
        )?;
        Ok(n > 0)
    }
}

/// Server-wide `/shared` METADATA entries (RFC 5464 §3.2.1.1): one set for
/// every user, read with `GETMETADATA ""` and set by the administrator.
/// Names are lower-case (entry names are case-insensitive).
impl Store {
    /// The server entries named in `names` or below them within `depth`.
    pub fn server_metadata(
        &self,
        names: &[String],
        depth: crate::account::metadata::Depth,
    ) -> Result<Vec<(String, Vec<u8>)>> {
        use crate::account::metadata::{entry_or_below, select_entries};
        let conn = lock(&self.inner.directory);
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT entry, value FROM server_metadata WHERE {} ORDER BY entry",
            entry_or_below("?1")
        ))?;
        select_entries(names, depth, |name| {
            let rows = stmt.query_map([name], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// Sets (`Some`) or removes (`None`) one server entry, which must start
    /// with `/shared/`. Returns whether anything changed.
    pub fn set_server_metadata(&self, entry: &str, value: Option<&[u8]>) -> Result<bool> {
        let entry = entry.to_ascii_lowercase();
        if !entry.starts_with("/shared/") {
            return Err(Error::InvalidName(entry));
        }
        let conn = lock(&self.inner.directory);
        let n = match value {
            Some(v) => conn.execute(
                "INSERT INTO server_metadata (entry, value) VALUES (?1, ?2)
                 ON CONFLICT (entry) DO UPDATE SET value = excluded.value WHERE value IS NOT excluded.value",
                params![entry, v],
            )?,
            None => conn.execute("DELETE FROM server_metadata WHERE entry = ?1", [entry])?,
        };
        Ok(n > 0)
    }
}
