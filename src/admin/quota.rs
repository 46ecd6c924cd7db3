//! `postfach quota set|get|list`: per-account limits (RFC 9208 STORAGE and
//! MESSAGE). Limits live in the directory and are read at every delivery,
//! APPEND and COPY, so changes apply to a running server at once.

use std::io::Write;
use std::path::Path;

use anyhow::Context as _;
use store::{QuotaInfo, QuotaLimits, QuotaUsage};

use super::QuotaCommand;
use crate::config::{parse_size, Config};
use crate::quota::describe;

/// Parses a message count; `none` removes the limit.
pub fn parse_count(s: &str) -> Result<Option<u64>, String> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("none") || t.eq_ignore_ascii_case("unlimited") {
        return Ok(None);
    }
    t.parse().map(Some).map_err(|_| format!("invalid message count {s:?} (a number, or none)"))
}

pub fn run(store: &store::Store, cmd: &QuotaCommand, out: &mut impl Write) -> anyhow::Result<()> {
    match cmd {
        QuotaCommand::Set { name, storage, messages } => {
            let mut limits = store.quota_info(name).with_context(|| format!("cannot read the quota of {name}"))?.limits;
            if let Some(s) = storage {
                limits.storage = parse_size(s).map_err(anyhow::Error::msg)?;
            }
            if let Some(m) = messages {
                limits.messages = parse_count(m).map_err(anyhow::Error::msg)?;
            }
            store.set_quota(name, limits).with_context(|| format!("cannot set the quota of {name}"))?;
            writeln!(out, "{name}: {}", limits_text(&limits))?;
        }
        QuotaCommand::Get { name } => {
            let info = store.quota_info(name).with_context(|| format!("cannot read the quota of {name}"))?;
            let usage = usage(store, &info)?;
            writeln!(out, "account:  {}", info.name)?;
            writeln!(out, "storage:  {}", describe(usage.storage, info.limits.storage, true))?;
            writeln!(out, "messages: {}", describe(usage.messages, info.limits.messages, false))?;
            writeln!(out, "bytes:    {} of {}", usage.storage, opt(info.limits.storage))?;
            if info.warned {
                writeln!(out, "warning:  sent")?;
            }
        }
        QuotaCommand::List => {
            for info in store.list_quotas().context("cannot list quotas")? {
                let usage = usage(store, &info)?;
                writeln!(
                    out,
                    "{} storage {}/{} messages {}/{}",
                    info.name,
                    usage.storage,
                    opt(info.limits.storage),
                    usage.messages,
                    opt(info.limits.messages)
                )?;
            }
        }
    }
    Ok(())
}

fn opt(v: Option<u64>) -> String {
    v.map_or_else(|| "unlimited".to_string(), |v| v.to_string())
}

fn limits_text(l: &QuotaLimits) -> String {
    let storage = l.storage.map_or_else(|| "unlimited".to_string(), crate::quota::human);
    format!("storage {storage}, messages {}", opt(l.messages))
}

fn usage(store: &store::Store, info: &QuotaInfo) -> anyhow::Result<QuotaUsage> {
    let account = store.account(info.id).with_context(|| format!("cannot open account {}", info.name))?;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(account.usage()).with_context(|| format!("cannot read the usage of {}", info.name))
}

/// Gives a new account the configured default limits (`[quota]
/// default_storage`, `default_messages`). The configuration is only read.
pub fn apply_default(store: &store::Store, config_path: &Path, name: &str) -> anyhow::Result<()> {
    let config = match std::fs::read_to_string(config_path) {
        Ok(text) => Config::parse(&text, config_path)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Config::default(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", config_path.display())),
    };
    let limits = config.quota.default_limits();
    if !limits.is_unlimited() {
        store.set_quota(name, limits).with_context(|| format!("cannot set the default quota of {name}"))?;
    }
    Ok(())
}
