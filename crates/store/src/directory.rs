//! The global directory (`DATA/directory.sqlite`): accounts and their password
//! hashes, and the process-wide cache of open accounts so that every session of
//! one account shares one writer and one change feed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use rusqlite::{params, Connection, OptionalExtension};

use crate::{db, Account, AccountId, AccountInfo, BlobStore, Error, Result};

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
}

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
        let acc = Arc::new(Account::open(id, &dir.join("index.sqlite"), self.inner.blobs.clone())?);
        open.retain(|_, w| w.strong_count() > 0);
        open.insert(id, Arc::downgrade(&acc));
        Ok(acc)
    }
}
