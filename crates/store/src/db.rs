//! SQLite plumbing shared by the directory and the account databases:
//! connection settings and `PRAGMA user_version` migrations.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::Result;

/// Migrations of `directory.sqlite`; entry `i` takes `user_version` from `i` to `i + 1`.
pub(crate) const DIRECTORY_MIGRATIONS: &[&str] = &[
    include_str!("migrations/directory_0001_init.sql"),
    include_str!("migrations/directory_0002_addresses.sql"),
    include_str!("migrations/directory_0003_quota.sql"),
    include_str!("migrations/directory_0004_server_metadata.sql"),
];

/// Migrations of an account's `index.sqlite`.
pub(crate) const ACCOUNT_MIGRATIONS: &[&str] = &[
    include_str!("migrations/account_0001_init.sql"),
    include_str!("migrations/account_0002_tombstone_retention.sql"),
    include_str!("migrations/account_0003_objectid_savedate.sql"),
    include_str!("migrations/account_0004_sort_keys.sql"),
    include_str!("migrations/account_0005_sieve.sql"),
    include_str!("migrations/account_0006_summary_index.sql"),
    include_str!("migrations/account_0007_fts.sql"),
    include_str!("migrations/account_0008_metadata.sql"),
    include_str!("migrations/account_0009_preview.sql"),
    include_str!("migrations/account_0010_recent.sql"),
    include_str!("migrations/account_0011_fts_words.sql"),
    include_str!("migrations/account_0012_sort_keys.sql"),
];

/// Opens a read-write connection (creating the file) with the settings every
/// writer uses: WAL, `synchronous=FULL`, foreign keys, a busy timeout (the
/// `postfach user …` CLI writes the directory while the server runs).
pub(crate) fn open_rw(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_millis(5000))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

/// Bytes of the database file a read connection maps into memory: reading a
/// page is then a memory access instead of a `pread` into SQLite's own page
/// cache (a `FETCH 1:* (ENVELOPE)` of 100 000 messages spent a seventh of
/// its time copying pages). The mapping is shared by every connection of the
/// process and costs address space, not memory; pages past it are read as
/// before. SQLite clamps it to its compile-time maximum.
const READ_MMAP_SIZE: i64 = 1 << 31;

/// Opens a read-only connection for the read pool.
pub(crate) fn open_ro(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
    )?;
    conn.busy_timeout(Duration::from_millis(5000))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "mmap_size", READ_MMAP_SIZE)?;
    Ok(conn)
}

/// Brings a database to the newest schema. Returns the version it had before
/// (0 for a new database).
pub(crate) fn migrate(conn: &mut Connection, migrations: &[&str]) -> Result<u32> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let before: u32 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (i, sql) in migrations.iter().enumerate().skip(before as usize) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
    }
    tx.commit()?;
    Ok(before)
}

/// Current time in Unix seconds.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}
