//! Storing one incoming message for its recipients: the part of delivery that
//! LMTP ([`crate::lmtp`]) and `postfach deliver` ([`crate::admin::deliver`])
//! share (DESIGN.md §2 and §4).
//!
//! The message is parsed once and written once as a blob (fsynced); each
//! recipient then gets its own row with a short per-recipient prefix
//! (`Return-Path`, `Delivered-To`), so N recipients share one blob. The
//! metadata is computed over the first recipient's prefix + blob: the trace
//! headers change neither the envelope nor the body structure, so it describes
//! every recipient's copy as served (sizes are per row: prefix + blob).
//! A recipient's result is `Ok` only after its row committed (invariant 3);
//! rows of concurrent deliveries share commits through the store's writer
//! (invariant 4).

pub mod filter;
pub mod relay;

use std::sync::Arc;

use store::{AccountId, MailboxId, NewMessage};

/// One recipient of a delivery.
#[derive(Debug, Clone)]
pub struct Target {
    /// The address as the MTA gave it (for `Delivered-To`).
    pub address: String,
    pub account: AccountId,
    /// Mailbox to store into; INBOX when it does not exist.
    pub mailbox: String,
}

/// Where a copy was stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub account: AccountId,
    pub mailbox: MailboxId,
    pub uid: u32,
    /// The mailbox's HIGHESTMODSEQ after the commit (for change notifications).
    pub modseq: u64,
}

/// Why a copy was not stored. Every failure but `OverQuota` is temporary (the
/// MTA retries): other permanent problems (unknown recipient, size) are found
/// before this point. Whether over quota is permanent is the caller's policy
/// (`quota.over_quota_temporary`).
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("store error: {0}")]
    Store(#[from] store::Error),
    #[error("delivery task failed: {0}")]
    Task(String),
    /// The recipient's account is over its quota (names the resource).
    #[error("mailbox full: over quota ({0})")]
    OverQuota(String),
}

/// The per-recipient trace headers (RFC 5321 §4.4 Return-Path; Delivered-To as
/// Postfix and Dovecot write it).
pub fn trace_prefix(from: &str, to: &str) -> Vec<u8> {
    format!("Return-Path: <{}>\r\nDelivered-To: {}\r\n", clean(from), clean(to)).into_bytes()
}

/// Keeps header values on one line whatever the envelope said.
fn clean(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect()
}

/// Turns every bare LF into CRLF (messages are stored with CRLF line endings).
pub fn to_crlf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 32);
    let mut prev = 0u8;
    for &b in bytes {
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        prev = b;
    }
    out
}

/// What happened to one recipient's message after its Sieve scripts ran
/// ([`deliver_filtered`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The copies stored (none after discard or a successful redirect).
    pub stored: Vec<Stored>,
    /// `reject`/`ereject`: refuse the message for this recipient with this reason.
    pub rejected: Option<String>,
}

/// Delivers one message to its recipients: the bytes are written once
/// (fsynced) and parsed once, each recipient's copy is prefix + blob, and
/// each recipient's Sieve scripts run first ([`filter`]: global before
/// script, the account's active script, global after script). A recipient's
/// result is `Ok` only once its copy is committed (DESIGN.md §2 invariant 3).
pub async fn deliver_filtered(
    store: &store::Store,
    config: &crate::config::Config,
    from: &str,
    message: Vec<u8>,
    targets: &[Target],
) -> Vec<Result<Outcome, DeliveryError>> {
    if targets.is_empty() {
        return Vec::new();
    }
    let trace_headers = config.delivery.trace_headers;
    let prefixes: Vec<Vec<u8>> =
        targets.iter().map(|t| if trace_headers { trace_prefix(from, &t.address) } else { Vec::new() }).collect();
    let blobs = store.blobs().clone();
    let size = message.len() as u64;
    let message = Arc::new(message);
    let for_blob = message.clone();
    let for_text = prefixes.clone();
    let (for_accounts, ids): (store::Store, Vec<AccountId>) =
        (store.clone(), targets.iter().map(|t| t.account).collect());
    // One hop to a blocking thread for everything before the writes: the
    // message file, its metadata and text, and each recipient's account,
    // limits and active script.
    let written = tokio::task::spawn_blocking(move || -> Result<_, DeliveryError> {
        let opened: Vec<store::Result<_>> = ids
            .into_iter()
            .map(|id| {
                let account = for_accounts.account(id)?;
                let active = account.sieve_active_blocking()?;
                Ok((account, for_accounts.quota_limits(id)?, active))
            })
            .collect();
        let blob = blobs.write(&for_blob)?;
        let served = |p: &[u8]| [p, &for_blob[..]].concat();
        let meta = crate::imap::fetch::compute_meta(&served(&for_text[0]));
        // The index keeps the text as served, trace headers included: one
        // per distinct prefix (the first came with the metadata).
        let texts: Vec<Option<store::TextDoc>> = for_text
            .iter()
            .map(|p| match &meta.text {
                Some(first) if *p != for_text[0] => {
                    crate::imap::search::message_text_reheaded(&served(p), first, &meta)
                }
                first => first.clone(),
            })
            .collect();
        Ok((blob, meta, texts, opened))
    })
    .await
    .map_err(|e| DeliveryError::Task(e.to_string()))
    .and_then(|r| r);
    let (blob, meta, texts, opened) = match written {
        Ok(x) => x,
        Err(e) => {
            let msg = e.to_string();
            return targets.iter().map(|_| Err(DeliveryError::Task(msg.clone()))).collect();
        }
    };
    let now = chrono::Utc::now().timestamp();
    let mut tasks = Vec::with_capacity(targets.len());
    for (((t, prefix), text), opened) in targets.iter().zip(prefixes).zip(texts).zip(opened) {
        let mut served = prefix.clone();
        served.extend_from_slice(&message);
        let meta = store::MessageMeta { text, ..meta.clone() };
        let new = NewMessage {
            blob: blob.clone(),
            size: prefix.len() as u64 + size,
            prefix,
            flags: store::Flags::default(),
            internal_date: now,
            internal_date_zone: 0,
            meta,
        };
        let store = store.clone();
        let config = config.clone();
        let from = from.to_string();
        let t = t.clone();
        let message = message.clone();
        tasks.push(tokio::spawn(async move {
            let (account, limits, active) = opened?;
            if !filter::has_scripts(&config, active.is_some()) {
                let stored = store_one(&store, &t, &account, limits, new, config.quota.warning_percent).await?;
                return Ok(Outcome { stored: vec![stored], rejected: None });
            }
            let served = Arc::new(served);
            filter::filter_and_store(&store, &config, &from, &t, new, served, message, account, active, limits).await
        }));
    }
    let mut out = Vec::with_capacity(tasks.len());
    for task in tasks {
        out.push(task.await.unwrap_or_else(|e| Err(DeliveryError::Task(e.to_string()))));
    }
    out
}

/// Stores one copy into `t.mailbox` (INBOX when it does not exist) within
/// `limits`, then updates the quota warning.
async fn store_one(
    store: &store::Store,
    t: &Target,
    account: &store::Account,
    limits: store::QuotaLimits,
    new: NewMessage,
    warning_percent: u8,
) -> Result<Stored, DeliveryError> {
    let d = account.deliver(&t.mailbox, new, limits).await.map_err(|e| match e {
        store::Error::OverQuota(r) => DeliveryError::OverQuota(r),
        e => e.into(),
    })?;
    if d.fell_back && !t.mailbox.eq_ignore_ascii_case("INBOX") {
        tracing::warn!(mailbox = %t.mailbox, "no such mailbox; delivered to INBOX");
    }
    crate::quota::after_write(store, account, &t.address, limits, d.usage, warning_percent).await;
    Ok(Stored { account: t.account, mailbox: d.mailbox, uid: d.uid, modseq: d.modseq })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf() {
        assert_eq!(to_crlf(b"a\nb\r\nc\n\n"), b"a\r\nb\r\nc\r\n\r\n");
        assert_eq!(to_crlf(b"\n"), b"\r\n");
        assert_eq!(to_crlf(b"a\rb"), b"a\rb");
    }

    #[test]
    fn prefix_is_one_line_per_header() {
        assert_eq!(trace_prefix("", "a@b"), b"Return-Path: <>\r\nDelivered-To: a@b\r\n");
        assert_eq!(trace_prefix("x\r\ny@z", "a@b"), b"Return-Path: <xy@z>\r\nDelivered-To: a@b\r\n");
    }

    /// The trace prefix changes neither envelope nor structure, so the
    /// metadata computed once is right for every recipient's copy.
    #[test]
    fn meta_is_the_same_for_every_prefix() {
        let msgs: [&[u8]; 4] = [
            b"From: a@b\r\nSubject: x\r\nMessage-ID: <1@b>\r\n\r\nbody\r\n",
            b"Content-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\n\r\none\r\n--q\r\nContent-Type: text/html\r\n\r\n<b>2</b>\r\n--q--\r\n",
            b"\r\nno header\r\n",
            b"just a line\r\n",
        ];
        for m in msgs {
            let with = |p: Vec<u8>| {
                let mut v = p;
                v.extend_from_slice(m);
                crate::imap::fetch::compute_meta(&v)
            };
            // Except the full-text index's copy of the header, which is per recipient.
            let without_text = |mut m: store::MessageMeta| {
                m.text = None;
                m
            };
            assert_eq!(
                without_text(with(trace_prefix("s@x", "a@y"))),
                without_text(with(trace_prefix("other@sender.example", "bob+tag@z")))
            );
        }
    }
}
