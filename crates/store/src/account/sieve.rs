//! Sieve data of one account (migration `account_0005_sieve.sql`): the
//! scripts edited over ManageSieve (RFC 5804), the last runtime error of each
//! script, whom vacation answered (RFC 5230) and the duplicate test's memory
//! (RFC 7352).
//!
//! Limits (number and size of scripts) are the caller's: the store only keeps
//! what it is given. Script names are compared exactly (RFC 5804 §1.6).

use rusqlite::{params, Connection, OptionalExtension};

use super::Account;
use crate::{db, Error, Result};

/// One stored script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptInfo {
    pub name: String,
    pub active: bool,
    /// Size of the content in octets.
    pub size: u64,
}

/// A recorded runtime error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptError {
    pub message: String,
    /// Unix seconds.
    pub at: i64,
}

impl Account {
    /// Every script, sorted by name.
    pub async fn sieve_scripts(&self) -> Result<Vec<ScriptInfo>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT name, active, length(CAST(content AS BLOB)) FROM sieve_scripts ORDER BY name",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(ScriptInfo { name: r.get(0)?, active: r.get::<_, i64>(1)? != 0, size: r.get::<_, i64>(2)? as u64 })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    /// A script's content, or `None`.
    pub async fn sieve_script(&self, name: &str) -> Result<Option<String>> {
        let name = name.to_string();
        self.read(move |c| {
            Ok(c.query_row("SELECT content FROM sieve_scripts WHERE name = ?1", [&name], |r| r.get(0)).optional()?)
        })
        .await
    }

    /// The active script: `(name, content)`, or `None`.
    pub async fn sieve_active(&self) -> Result<Option<(String, String)>> {
        self.read(sieve_active_in).await
    }

    /// [`Account::sieve_active`] on the caller's thread, for a caller that
    /// already runs on a blocking thread (delivery looks the account, its
    /// limits and its script up in one hop).
    pub fn sieve_active_blocking(&self) -> Result<Option<(String, String)>> {
        self.readers.with_conn(sieve_active_in)
    }

    /// Creates or replaces a script (keeping its active state) and forgets
    /// its recorded error.
    pub async fn put_sieve_script(&self, name: &str, content: &str) -> Result<()> {
        let (name, content) = (name.to_string(), content.to_string());
        self.write(move |c, _| {
            c.execute(
                "INSERT INTO sieve_scripts (name, content, active, updated_at) VALUES (?1, ?2, 0, ?3)
                 ON CONFLICT (name) DO UPDATE SET content = excluded.content, updated_at = excluded.updated_at",
                params![name, content, db::now()],
            )?;
            c.execute("DELETE FROM sieve_errors WHERE script = ?1", [&name])?;
            Ok(())
        })
        .await
    }

    /// Makes `name` the active script; `None` deactivates every script.
    /// [`Error::NotFound`] when there is no such script.
    pub async fn set_sieve_active(&self, name: Option<&str>) -> Result<()> {
        let name = name.map(str::to_string);
        self.write(move |c, _| {
            if let Some(n) = &name {
                let exists: bool =
                    c.query_row("SELECT count(*) FROM sieve_scripts WHERE name = ?1", [n], |r| r.get::<_, i64>(0))? > 0;
                if !exists {
                    return Err(Error::NotFound(n.clone()));
                }
            }
            c.execute("UPDATE sieve_scripts SET active = 0 WHERE active = 1", [])?;
            if let Some(n) = &name {
                c.execute("UPDATE sieve_scripts SET active = 1 WHERE name = ?1", [n])?;
            }
            Ok(())
        })
        .await
    }

    /// Deletes a script. [`Error::NotFound`] when it does not exist,
    /// [`Error::NotAllowed`] when it is active (RFC 5804 §2.10).
    pub async fn delete_sieve_script(&self, name: &str) -> Result<()> {
        let name = name.to_string();
        self.write(move |c, _| {
            let active: Option<i64> =
                c.query_row("SELECT active FROM sieve_scripts WHERE name = ?1", [&name], |r| r.get(0)).optional()?;
            match active {
                None => Err(Error::NotFound(name)),
                Some(1) => Err(Error::NotAllowed(name)),
                Some(_) => {
                    c.execute("DELETE FROM sieve_scripts WHERE name = ?1", [&name])?;
                    c.execute("DELETE FROM sieve_errors WHERE script = ?1", [&name])?;
                    Ok(())
                }
            }
        })
        .await
    }

    /// Renames a script (keeping its active state). [`Error::NotFound`] when
    /// `from` does not exist, [`Error::Exists`] when `to` does.
    pub async fn rename_sieve_script(&self, from: &str, to: &str) -> Result<()> {
        let (from, to) = (from.to_string(), to.to_string());
        self.write(move |c, _| {
            let n = |name: &str| -> Result<i64> {
                Ok(c.query_row("SELECT count(*) FROM sieve_scripts WHERE name = ?1", [name], |r| r.get(0))?)
            };
            if n(&from)? == 0 {
                return Err(Error::NotFound(from));
            }
            if n(&to)? > 0 {
                return Err(Error::Exists(to));
            }
            c.execute("UPDATE sieve_scripts SET name = ?2 WHERE name = ?1", [&from, &to])?;
            c.execute("UPDATE sieve_errors SET script = ?2 WHERE script = ?1", [&from, &to])?;
            Ok(())
        })
        .await
    }

    /// Records the runtime error of a delivery run of `script`.
    pub async fn set_sieve_error(&self, script: &str, message: &str) -> Result<()> {
        let (script, message) = (script.to_string(), message.to_string());
        self.write(move |c, _| {
            c.execute(
                "INSERT INTO sieve_errors (script, message, at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (script) DO UPDATE SET message = excluded.message, at = excluded.at",
                params![script, message, db::now()],
            )?;
            Ok(())
        })
        .await
    }

    /// The last recorded runtime error of `script`.
    pub async fn sieve_error(&self, script: &str) -> Result<Option<ScriptError>> {
        let script = script.to_string();
        self.read(move |c| {
            Ok(c.query_row("SELECT message, at FROM sieve_errors WHERE script = ?1", [&script], |r| {
                Ok(ScriptError { message: r.get(0)?, at: r.get(1)? })
            })
            .optional()?)
        })
        .await
    }

    /// Vacation (RFC 5230 §4.2): whether `sender` may be answered under
    /// `handle` now, i.e. was not answered within the last `period` seconds.
    /// When it may, the reply is recorded at once (the caller then sends it),
    /// so two concurrent deliveries do not both answer.
    pub async fn vacation_claim(&self, handle: &str, sender: &str, period: u64) -> Result<bool> {
        let (handle, sender) = (handle.to_string(), sender.to_ascii_lowercase());
        self.write(move |c, _| {
            let now = db::now();
            let last: Option<i64> = c
                .query_row(
                    "SELECT sent_at FROM vacation_sent WHERE handle = ?1 AND sender = ?2",
                    [&handle, &sender],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(t) = last {
                if now.saturating_sub(t) < period as i64 {
                    return Ok(false);
                }
            }
            c.execute(
                "INSERT INTO vacation_sent (handle, sender, sent_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (handle, sender) DO UPDATE SET sent_at = excluded.sent_at",
                params![handle, sender, now],
            )?;
            // Old entries can go: nobody waits more than a year (RFC 5230 §4.1 caps :days).
            c.execute("DELETE FROM vacation_sent WHERE sent_at < ?1", [now - 400 * 86_400])?;
            Ok(true)
        })
        .await
    }

    /// The duplicate test (RFC 7352): whether `id` was seen under `handle`
    /// within its period; records it (with `last`, or when new, restarting
    /// the period of `period` seconds).
    pub async fn sieve_duplicate(&self, handle: &str, id: &str, period: u64, last: bool) -> Result<bool> {
        let (handle, id) = (handle.to_string(), id.to_string());
        self.write(move |c, _| {
            let now = db::now();
            c.execute("DELETE FROM sieve_duplicates WHERE expires_at <= ?1", [now])?;
            let seen = c
                .query_row("SELECT 1 FROM sieve_duplicates WHERE handle = ?1 AND id = ?2", [&handle, &id], |_| Ok(()))
                .optional()?
                .is_some();
            if !seen || last {
                c.execute(
                    "INSERT INTO sieve_duplicates (handle, id, expires_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT (handle, id) DO UPDATE SET expires_at = excluded.expires_at",
                    params![handle, id, now.saturating_add(period as i64)],
                )?;
            }
            Ok(seen)
        })
        .await
    }
}

/// The active script's name and source (one statement: no explicit
/// transaction needed).
fn sieve_active_in(c: &Connection) -> Result<Option<(String, String)>> {
    let mut stmt = c.prepare_cached("SELECT name, content FROM sieve_scripts WHERE active = 1")?;
    Ok(stmt.query_row([], |r| Ok((r.get(0)?, r.get(1)?))).optional()?)
}
