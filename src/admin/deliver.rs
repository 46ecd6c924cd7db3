//! `postfach deliver --to NAME [--from SENDER] [--mailbox MBOX]`: local
//! delivery of one message on standard input, for MTAs that pipe (Postfix
//! `pipe`, Exim `pipe` transport, procmail-style setups).
//!
//! The message is stored exactly as LMTP stores it ([`crate::delivery`]):
//! bare LF becomes CRLF, one blob, `Return-Path`/`Delivered-To` per copy,
//! exit status 0 only after the row committed. A running server learns of the
//! new message through its socket in `DATA/run/notify.d/` ([`crate::notify`]),
//! so its IDLE clients see it at once.
//!
//! Exit status (sysexits.h), so the MTA bounces or retries correctly:
//!
//! | status | meaning |
//! | --- | --- |
//! | 0 | stored |
//! | 64 `EX_USAGE` | bad command line (from the argument parser) |
//! | 65 `EX_DATAERR` | empty message, larger than `delivery.max_message_size`, or containing NUL |
//! | 67 `EX_NOUSER` | no account receives mail for `--to` |
//! | 73 `EX_CANTCREAT` | `--mailbox` is not a valid mailbox name, or the account is over its quota (RFC 3463 5.2.2: the MTA bounces) |
//! | 75 `EX_TEMPFAIL` | the store failed (disk, database busy…), or over quota with `quota.over_quota_temporary = true`: the MTA retries |
//! | 77 `EX_NOPERM` | a Sieve `reject`/`ereject` refused the message; the reason is on stderr (the MTA bounces it) |
//! | 78 `EX_CONFIG` | the configuration file is invalid |
//!
//! The recipient's Sieve scripts run as for LMTP ([`crate::delivery::filter`]);
//! with `--mailbox`, `keep` (and the implicit keep) stores there.
//!
//! A `--mailbox` that does not exist gets the message in INBOX instead (as
//! Dovecot's LDA does), so no mail is lost to a typo in a filter.

use std::io::Read;
use std::path::Path;

use crate::config::Config;
use crate::delivery::{self, Target};

pub const EX_OK: u8 = 0;
pub const EX_DATAERR: u8 = 65;
pub const EX_NOUSER: u8 = 67;
pub const EX_CANTCREAT: u8 = 73;
pub const EX_TEMPFAIL: u8 = 75;
pub const EX_NOPERM: u8 = 77;
pub const EX_CONFIG: u8 = 78;

/// A failed delivery: the exit status and why. `main` exits with the status.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Exit {
    pub code: u8,
    pub message: String,
}

fn exit(code: u8, message: impl Into<String>) -> Exit {
    Exit { code, message: message.into() }
}

/// Runs `deliver`; `Ok` means the message is durably stored.
pub fn run(
    data_dir: &Path,
    config_path: &Path,
    to: &str,
    from: &str,
    mailbox: &str,
    input: &mut impl Read,
) -> Result<(), Exit> {
    // The configuration is read, never written: `deliver` creates nothing.
    let config = match std::fs::read_to_string(config_path) {
        Ok(text) => Config::parse(&text, config_path).map_err(|e| exit(EX_CONFIG, format!("{e:#}")))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Config::default(),
        Err(e) => return Err(exit(EX_TEMPFAIL, format!("cannot read {}: {e}", config_path.display()))),
    };
    if store::account::validate_mailbox_name(mailbox).is_err() {
        return Err(exit(EX_CANTCREAT, format!("invalid mailbox name {mailbox:?}")));
    }
    let max = config.delivery.max_message_size;
    let mut raw = Vec::new();
    input
        .take(max.saturating_add(1))
        .read_to_end(&mut raw)
        .map_err(|e| exit(EX_TEMPFAIL, format!("cannot read the message: {e}")))?;
    if raw.is_empty() {
        return Err(exit(EX_DATAERR, "empty message on standard input"));
    }
    if raw.contains(&0) {
        return Err(exit(EX_DATAERR, "the message contains NUL characters"));
    }
    let message = delivery::to_crlf(&raw);
    if raw.len() as u64 > max || message.len() as u64 > max {
        return Err(exit(EX_DATAERR, format!("the message is larger than delivery.max_message_size ({max} bytes)")));
    }
    if !data_dir.is_dir() {
        return Err(exit(EX_TEMPFAIL, format!("data directory {} does not exist", data_dir.display())));
    }
    let store = store::Store::open(data_dir)
        .map_err(|e| exit(EX_TEMPFAIL, format!("cannot open data directory {}: {e}", data_dir.display())))?;
    let recipient = store
        .resolve_recipient(to, &config.delivery.recipient_delimiter)
        .map_err(|e| exit(EX_TEMPFAIL, format!("cannot look up {to}: {e}")))?
        .ok_or_else(|| exit(EX_NOUSER, format!("no such user: {to}")))?;
    let target = Target { address: to.to_string(), account: recipient.account, mailbox: mailbox.to_string() };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| exit(EX_TEMPFAIL, format!("cannot start the async runtime: {e}")))?;
    let result = runtime.block_on(async {
        let mut r = delivery::deliver_filtered(&store, &config, from, message, std::slice::from_ref(&target)).await;
        r.pop()
    });
    match result {
        Some(Ok(delivery::Outcome { rejected: Some(reason), .. })) => {
            Err(exit(EX_NOPERM, format!("rejected by the recipient's filter: {reason}")))
        }
        Some(Ok(outcome)) => {
            for stored in outcome.stored {
                crate::notify::send(data_dir, stored.account, stored.mailbox, stored.modseq);
            }
            Ok(())
        }
        Some(Err(e @ delivery::DeliveryError::OverQuota(_))) => {
            let code = if config.quota.over_quota_temporary { EX_TEMPFAIL } else { EX_CANTCREAT };
            Err(exit(code, format!("cannot store the message for {to}: {e}")))
        }
        Some(Err(e)) => Err(exit(EX_TEMPFAIL, format!("cannot store the message: {e}"))),
        None => Err(exit(EX_TEMPFAIL, "no delivery result")),
    }
}
