//! Quotas (RFC 9208): what the protocols share.
//!
//! - Limits are per account in the directory (`postfach quota set`); usage is
//!   the sum of RFC822.SIZE and the number of messages over all mailboxes of
//!   the account, read inside the store's write transaction, so check and
//!   write cannot race ([`store::Account::append_within`],
//!   [`store::Account::copy_within`]).
//! - Every account is one quota root, named `""`, governing all its mailboxes.
//! - The usage warning ([`after_write`]): when a write takes usage to
//!   `quota.warning_percent` of a limit, a notice goes to the INBOX once; the
//!   directory remembers it was sent until usage is seen below the threshold.

use store::{Account, QuotaLimits, QuotaUsage, Store, UsageChange};

/// The name of every account's one quota root.
pub const ROOT: &str = "";

/// Bytes for people: `1.5 MiB`, `512 B`.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// `used / limit` of one resource for people; no limit is `unlimited`.
pub fn describe(used: u64, limit: Option<u64>, bytes: bool) -> String {
    let f = |n: u64| if bytes { human(n) } else { n.to_string() };
    match limit {
        Some(l) => {
            let pct = if l == 0 { 100 } else { (u128::from(used) * 100 / u128::from(l)) as u64 };
            format!("{} of {} ({pct}%)", f(used), f(l))
        }
        None => format!("{} (unlimited)", f(used)),
    }
}

/// RFC 9208 §5.1: STORAGE is counted in units of 1024 octets. Usage is
/// rounded up (a 1-byte message uses 1), the limit down (never promising
/// room the server will refuse).
pub fn kib_usage(bytes: u64) -> u64 {
    bytes.div_ceil(1024)
}

pub fn kib_limit(bytes: u64) -> u64 {
    bytes / 1024
}

/// After a write that changed usage from `change.before` to `change.after`:
/// delivers the usage warning when it is due, and forgets an old one when
/// usage was below the threshold. Failures are logged, never returned: the
/// write itself has succeeded.
pub async fn after_write(
    store: &Store,
    account: &Account,
    user: &str,
    limits: QuotaLimits,
    change: Option<UsageChange>,
    percent: u8,
) {
    let Some(change) = change else { return };
    if percent == 0 {
        return;
    }
    let over_before = limits.above_percent(&change.before, percent);
    let over_after = limits.above_percent(&change.after, percent);
    let id = account.id();
    let flag = |warned: bool| {
        let store = store.clone();
        async move {
            tokio::task::spawn_blocking(move || store.set_quota_warned(id, warned))
                .await
                .map_err(|e| store::Error::Task(e.to_string()))
                .and_then(|r| r)
        }
    };
    if !over_before || !over_after {
        // Usage was below the threshold: the next crossing warns again.
        if let Err(e) = flag(false).await {
            tracing::warn!(error = %e, "cannot reset the quota warning flag");
        }
    }
    if !over_after {
        return;
    }
    // Only the writer that flips the flag sends the notice.
    match flag(true).await {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => {
            tracing::warn!(error = %e, "cannot set the quota warning flag");
            return;
        }
    }
    if let Err(e) = deliver_notice(store, account, user, limits, change.after, percent).await {
        tracing::warn!(error = %e, "cannot deliver the quota warning");
    } else {
        tracing::info!(account = user, "delivered quota warning");
    }
}

/// The warning message (RFC 5322, CRLF).
pub fn notice(user: &str, limits: QuotaLimits, usage: QuotaUsage, percent: u8) -> Vec<u8> {
    let host = crate::lmtp::hostname();
    let now = chrono::Utc::now();
    let id = format!("{}.{}.quota@{host}", now.timestamp_nanos_opt().unwrap_or(0), std::process::id());
    let to: String = user.chars().filter(|c| !c.is_control()).collect();
    let to = if to.contains('@') { to } else { format!("{to}@{host}") };
    format!(
        "From: Mail System <postmaster@{host}>\r\n\
         To: <{to}>\r\n\
         Subject: Your mailbox is {percent}% full\r\n\
         Date: {}\r\n\
         Message-ID: <{id}>\r\n\
         Auto-Submitted: auto-generated\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         \r\n\
         Your mailbox has reached {percent}% of its quota.\r\n\
         \r\n\
         Storage:  {}\r\n\
         Messages: {}\r\n\
         \r\n\
         When it is full, new mail is refused. Delete messages you no longer\r\n\
         need (and empty the Trash) to make room.\r\n",
        now.to_rfc2822(),
        describe(usage.storage, limits.storage, true),
        describe(usage.messages, limits.messages, false),
    )
    .into_bytes()
}

async fn deliver_notice(
    store: &Store,
    account: &Account,
    user: &str,
    limits: QuotaLimits,
    usage: QuotaUsage,
    percent: u8,
) -> store::Result<()> {
    let bytes = notice(user, limits, usage, percent);
    let blobs = store.blobs().clone();
    let size = bytes.len() as u64;
    let (blob, meta) = tokio::task::spawn_blocking(move || -> store::Result<_> {
        let meta = crate::imap::fetch::compute_meta(&bytes);
        Ok((blobs.write(&bytes)?, meta))
    })
    .await
    .map_err(|e| store::Error::Task(e.to_string()))??;
    let inbox = account.mailbox("INBOX").await?.ok_or_else(|| store::Error::NoSuchMailbox("INBOX".into()))?;
    let new = store::NewMessage {
        blob,
        size,
        prefix: Vec::new(),
        flags: store::Flags::default(),
        internal_date: chrono::Utc::now().timestamp(),
        internal_date_zone: 0,
        meta,
    };
    // The notice itself is not refused by the quota it warns about.
    account.append(inbox.id, vec![new]).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kib_rounding() {
        assert_eq!((kib_usage(0), kib_usage(1), kib_usage(1024), kib_usage(1025)), (0, 1, 1, 2));
        assert_eq!((kib_limit(1023), kib_limit(1024), kib_limit(2047)), (0, 1, 1));
    }

    #[test]
    fn notice_is_a_message() {
        let n = String::from_utf8(notice(
            "alice",
            QuotaLimits { storage: Some(1000), messages: None },
            QuotaUsage { storage: 950, messages: 3 },
            90,
        ))
        .unwrap();
        assert!(n.contains("\r\nSubject: Your mailbox is 90% full\r\n"), "{n}");
        assert!(n.contains("\r\nTo: <alice@"), "{n}");
        assert!(n.contains("Storage:  950 B of 1000 B (95%)\r\n"), "{n}");
        assert!(n.contains("Messages: 3 (unlimited)\r\n"), "{n}");
        assert!(!n.replace("\r\n", "").contains('\n'), "CRLF only");
    }

    #[test]
    fn people_sizes() {
        assert_eq!(human(512), "512 B");
        assert_eq!(human(1536), "1.5 KiB");
        assert_eq!(human(2 << 30), "2.0 GiB");
        assert_eq!(describe(50, Some(100), false), "50 of 100 (50%)");
        assert_eq!(describe(5, None, false), "5 (unlimited)");
    }

    #[test]
    fn limits_logic() {
        let l = QuotaLimits { storage: Some(1000), messages: Some(10) };
        let u = QuotaUsage { storage: 900, messages: 9 };
        assert_eq!(l.refuses(&u, 100, 1), None);
        assert_eq!(l.refuses(&u, 101, 1), Some("STORAGE"));
        assert_eq!(l.refuses(&u, 1, 2), Some("MESSAGE"));
        assert_eq!(l.refuses(&QuotaUsage { storage: 2000, messages: 0 }, 0, 0), None);
        assert!(l.above_percent(&u, 90));
        assert!(!l.above_percent(&QuotaUsage { storage: 899, messages: 8 }, 90));
        assert!(!l.above_percent(&u, 0));
        assert!(!QuotaLimits::default().above_percent(&u, 90));
    }
}
