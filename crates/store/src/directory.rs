//! The global directory (`DATA/directory.sqlite`): accounts and their password
//! hashes, and the process-wide cache of open accounts so that every session of
//! one account shares one writer and one change feed.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::{Account, AccountId, AccountInfo, BlobStore, Result};

/// The store of one data directory. Cheap to clone (an `Arc` inside).
#[derive(Clone)]
pub struct Store {
    inner: Arc<StoreInner>,
}

struct StoreInner {
    data_dir: PathBuf,
    blobs: BlobStore,
    // directory connection, open-account cache …
}

impl Store {
    /// Opens (creating if needed) the data directory: `directory.sqlite`,
    /// `accounts/`, `blobs/`.
    pub fn open(data_dir: &Path) -> Result<Store> {
        todo!()
    }

    pub fn data_dir(&self) -> &Path {
        &self.inner.data_dir
    }

    pub fn blobs(&self) -> &BlobStore {
        &self.inner.blobs
    }

    /// Creates an account with the default mailboxes (INBOX, Sent, Drafts,
    /// Trash, Junk, Archive with their RFC 6154 special use), all subscribed.
    /// Names are matched case-insensitively (stored lower-case).
    pub fn create_account(&self, name: &str, password_hash: &str) -> Result<AccountId> {
        todo!()
    }

    /// Removes an account and its database directory.
    pub fn delete_account(&self, name: &str) -> Result<()> {
        todo!()
    }

    pub fn list_accounts(&self) -> Result<Vec<AccountInfo>> {
        todo!()
    }

    pub fn set_password_hash(&self, name: &str, password_hash: &str) -> Result<()> {
        todo!()
    }

    /// The account id and password hash for a login name, read fresh from the
    /// database (so `postfach user …` works while the server runs).
    pub fn password_hash(&self, name: &str) -> Result<Option<(AccountId, String)>> {
        todo!()
    }

    /// Opens an account, or returns the already open handle.
    pub fn account(&self, id: AccountId) -> Result<Arc<Account>> {
        todo!()
    }
}
