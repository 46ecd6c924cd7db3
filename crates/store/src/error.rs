//! The store's error type: what went wrong, in terms a caller can `match`.

use thiserror::Error;

pub type Result<T> = std::result::Result<T, Error>;

#[derive(Debug, Error)]
pub enum Error {
    #[error("mailbox does not exist: {0}")]
    NoSuchMailbox(String),
    #[error("mailbox already exists: {0}")]
    MailboxExists(String),
    #[error("mailbox has children: {0}")]
    HasChildren(String),
    #[error("operation not allowed on this mailbox: {0}")]
    NotAllowed(String),
    #[error("account does not exist: {0}")]
    NoSuchAccount(String),
    #[error("account already exists: {0}")]
    AccountExists(String),
    #[error("already exists: {0}")]
    Exists(String),
    #[error("does not exist: {0}")]
    NotFound(String),
    #[error("invalid name: {0}")]
    InvalidName(String),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    #[error("store task failed: {0}")]
    Task(String),
    /// The write would take the account over its quota; names the resource
    /// (`STORAGE`, `MESSAGE`). Nothing was written.
    #[error("over quota ({0})")]
    OverQuota(String),
    /// A write would exceed a count limit (e.g. METADATA entries per mailbox,
    /// RFC 5464 `[METADATA TOOMANY]`). Nothing was written.
    #[error("too many {0}")]
    TooMany(String),
}
