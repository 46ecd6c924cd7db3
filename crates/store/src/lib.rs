//! postfach's account store: the only way to read or change mail.
//!
//! Layout on disk (DESIGN.md §2):
//!
//! ```text
//! DATA/directory.sqlite            accounts, password hashes, quota limits, addresses, domains (global)
//! DATA/accounts/<id>/index.sqlite  one database per account: mailboxes, messages, tombstones, subscriptions
//! DATA/blobs/ab/cdef…              message bytes, content-addressed by SHA-256, CRLF line endings
//! ```
//!
//! The schema lives in `src/migrations/*.sql` (applied in order, tracked by
//! `PRAGMA user_version`); every database runs in WAL mode with
//! `synchronous=FULL`, `foreign_keys=ON` and a 5 s busy timeout.
//!
//! Invariants (each shown by a test in `tests/`):
//! 1. A UID is never reused within a UIDVALIDITY; UIDNEXT only grows.
//! 2. MODSEQ grows with every change to a mailbox; HIGHESTMODSEQ is the largest
//!    MODSEQ of any message or tombstone in it.
//! 3. Durability before acknowledgement: blob written and fsynced → transaction
//!    committed (WAL, `synchronous=FULL`) → only then does a caller get `Ok`.
//! 4. Writes are grouped: concurrent writers to one account share one
//!    transaction and one fsync (group commit; see [`account`]).
//! 5. No lock or transaction is held by the store while the caller writes to a
//!    socket: every method returns owned data.

pub mod account;
pub mod blob;
mod db;
pub mod directory;
pub mod error;
pub mod snapshot;
pub mod types;

pub use account::fts::{MessageText, TextDoc, TextField, TextTerm, Unindexed};
pub use account::sort::{SortColumn, SortKeys};
pub use account::{Account, CommitHook, OpenedMailbox};
pub use blob::{BlobId, BlobStore};
pub use directory::Store;
pub use error::{Error, Result};
pub use snapshot::MailboxSnapshot;
pub use types::*;
