//! Sieve at delivery (RFC 5228): which scripts run, what their actions do.
//!
//! ## Scripts
//!
//! For each recipient, in order: the global `[sieve] before` script, the
//! account's active script (ManageSieve SETACTIVE), the global `[sieve]
//! after` script — like Pigeonhole's `sieve_before`/`sieve_after`, kept
//! simple:
//!
//! - every script sees the original message (with the trace headers);
//!   `stop` ends only its own script;
//! - the explicit actions of all scripts are carried out; the implicit keep
//!   (INBOX, with the last script's imap4flags) only when no script cancelled
//!   it;
//! - a `reject`/`ereject` ends processing: later scripts do not run and the
//!   message is refused (LMTP `550 5.7.1`, `deliver` exit 77), earlier
//!   scripts' actions are void;
//! - a runtime error (or a script that no longer compiles) in any script:
//!   no action of any script is carried out, the message goes to INBOX, and
//!   the error is logged and recorded for the script (ManageSieve shows it);
//! - a global script that is missing or does not compile is skipped with a
//!   logged error.
//!
//! spamtest/virustest (RFC 5235) read the headers configured in `[sieve]
//! spamtest_header`/`virustest_header`; unset, every message is "not tested".
//!
//! ## Actions
//!
//! keep → INBOX with the flags; fileinto → that mailbox, created only with
//! `:create`, else INBOX (logged); `:specialuse` prefers the mailbox with that
//! special use; discard → nothing stored; redirect → sent through `[submission]
//! relay` with the original envelope sender (when that fails, a copy is kept
//! in INBOX: no mail is lost); vacation → a reply with RFC 3834 headers sent
//! with a null return path, at most once per sender and handle within the
//! period (table `vacation_sent`). Every mailbox gets at most one copy.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sieve::{Action, Compiler, Envelope, Host, IncludeLocation, Message, Script};
use store::{Account, MailboxInfo, NewMessage};

use super::{relay, store_one, DeliveryError, Outcome, Target};
use crate::config::Config;

/// The name the errors of the global scripts are recorded under.
pub const GLOBAL_BEFORE: &str = "global:before";
pub const GLOBAL_AFTER: &str = "global:after";

/// A compiler with the configured script size limit.
pub fn compiler(config: &Config) -> Compiler {
    let mut c = Compiler::default();
    c.limits.max_script_size = config.sieve.max_script_size.max(c.limits.max_script_size);
    c
}

/// What the scripts decided.
struct Plan {
    actions: Vec<Action>,
    edited_header: Option<String>,
    /// `(script, message)` of a failed run.
    error: Option<(String, String)>,
}

struct DeliveryHost {
    rt: tokio::runtime::Handle,
    account: Arc<Account>,
    mailboxes: Vec<MailboxInfo>,
    addresses: Vec<String>,
    domain: String,
    hostname: String,
    separator: String,
    global_dir: Option<PathBuf>,
    /// `[sieve] spamtest_header`/`virustest_header` (checked at config load).
    spamtest: Option<sieve::ScoreHeader>,
    virustest: Option<sieve::ScoreHeader>,
}

impl Host for DeliveryHost {
    fn mailbox_exists(&self, mailbox: &str) -> bool {
        let m = normalize(mailbox);
        self.mailboxes.iter().any(|x| x.name == m)
    }

    fn special_use_exists(&self, mailbox: Option<&str>, special_use: &str) -> bool {
        let m = mailbox.map(normalize);
        self.mailboxes.iter().any(|x| {
            m.as_ref().is_none_or(|m| &x.name == m)
                && x.special_use.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(special_use))
        })
    }

    fn duplicate(&mut self, handle: &str, id: &str, period: u64, last: bool) -> bool {
        match self.rt.block_on(self.account.sieve_duplicate(handle, id, period, last)) {
            Ok(seen) => seen,
            Err(e) => {
                tracing::warn!(error = %e, "sieve duplicate tracking failed");
                false
            }
        }
    }

    fn include(&mut self, location: IncludeLocation, name: &str) -> Result<Option<String>, String> {
        match location {
            IncludeLocation::Personal => self.rt.block_on(self.account.sieve_script(name)).map_err(|e| e.to_string()),
            IncludeLocation::Global => {
                let Some(dir) = &self.global_dir else { return Ok(None) };
                if name.is_empty() || name.contains('/') || name.starts_with('.') {
                    return Ok(None);
                }
                for file in [dir.join(name), dir.join(format!("{name}.sieve"))] {
                    if let Ok(s) = std::fs::read_to_string(&file) {
                        return Ok(Some(s));
                    }
                }
                Ok(None)
            }
        }
    }

    fn environment(&self, name: &str) -> Option<String> {
        match name {
            "domain" => Some(self.domain.clone()),
            "host" => Some(self.hostname.clone()),
            "phase" => Some("during".into()),
            "location" => Some("MDA".into()),
            _ => None,
        }
    }

    fn subaddress_separator(&self) -> &str {
        &self.separator
    }

    fn user_addresses(&self) -> Vec<String> {
        self.addresses.clone()
    }

    fn spamtest(&self) -> Option<sieve::ScoreHeader> {
        self.spamtest.clone()
    }

    fn virustest(&self) -> Option<sieve::ScoreHeader> {
        self.virustest.clone()
    }
}

/// `INBOX` in any case is INBOX (RFC 9051 §5.1).
fn normalize(mailbox: &str) -> String {
    if mailbox.eq_ignore_ascii_case("INBOX") {
        "INBOX".into()
    } else {
        mailbox.to_string()
    }
}

/// The directory of the global scripts (for `include :global`).
fn global_dir(config: &Config) -> Option<PathBuf> {
    config.sieve.before.as_ref().or(config.sieve.after.as_ref()).and_then(|p| p.parent()).map(Path::to_path_buf)
}

async fn load_global(compiler: &Compiler, path: &Option<PathBuf>, key: &str) -> Option<(String, Script)> {
    let path = path.as_ref()?;
    let src = match tokio::fs::read_to_string(path).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(path = %path.display(), error = %e, "cannot read the global sieve script; skipped");
            return None;
        }
    };
    match compiler.compile(&src) {
        Ok(s) => Some((key.to_string(), s)),
        Err(e) => {
            tracing::error!(path = %path.display(), error = %e, "global sieve script does not compile; skipped");
            None
        }
    }
}

/// Whether any script applies to an account (so plain delivery can skip
/// everything else), given whether it has an active one.
pub(super) fn has_scripts(config: &Config, active: bool) -> bool {
    config.sieve.before.is_some() || config.sieve.after.is_some() || active
}

/// Runs the scripts for one recipient and carries out their actions.
/// `served` is the copy as stored (trace prefix + message), `message` the
/// message as received (what redirect sends on), `active` the account's
/// active script (name, source) as read with the account.
#[allow(clippy::too_many_arguments)]
pub(super) async fn filter_and_store(
    store: &store::Store,
    config: &Config,
    from: &str,
    t: &Target,
    new: NewMessage,
    served: Arc<Vec<u8>>,
    message: Arc<Vec<u8>>,
    account: Arc<Account>,
    active: Option<(String, String)>,
    limits: store::QuotaLimits,
) -> Result<Outcome, DeliveryError> {
    let compiler = compiler(config);
    let mut scripts: Vec<(String, Script)> = Vec::new();
    let mut broken: Option<(String, String)> = None;
    if let Some(s) = load_global(&compiler, &config.sieve.before, GLOBAL_BEFORE).await {
        scripts.push(s);
    }
    if let Some((name, src)) = active {
        match compiler.compile(&src) {
            Ok(s) => scripts.push((name, s)),
            Err(e) => broken = Some((name, format!("the script no longer compiles: {e}"))),
        }
    }
    if let Some(s) = load_global(&compiler, &config.sieve.after, GLOBAL_AFTER).await {
        scripts.push(s);
    }
    let plan = if let Some(error) = broken {
        Plan { actions: vec![Action::Keep { flags: vec![] }], edited_header: None, error: Some(error) }
    } else {
        let mailboxes = account.mailboxes().await?;
        let addresses = user_addresses(store, t, &config.delivery.recipient_delimiter).await;
        let host = DeliveryHost {
            rt: tokio::runtime::Handle::current(),
            account: account.clone(),
            mailboxes,
            addresses,
            domain: t.address.rsplit_once('@').map(|(_, d)| d.to_string()).unwrap_or_default(),
            hostname: crate::lmtp::hostname(),
            separator: if config.delivery.recipient_delimiter.is_empty() {
                "+".into()
            } else {
                config.delivery.recipient_delimiter.clone()
            },
            global_dir: global_dir(config),
            spamtest: config.sieve.spamtest().unwrap_or_default(),
            virustest: config.sieve.virustest().unwrap_or_default(),
        };
        let env = Envelope::new(from, t.address.clone());
        let served = served.clone();
        tokio::task::spawn_blocking(move || {
            let msg = Message::parse(&served);
            let mut host = host;
            evaluate(&compiler, &scripts, &msg, &env, &mut host)
        })
        .await
        .map_err(|e| DeliveryError::Task(e.to_string()))?
    };
    if let Some((script, message)) = &plan.error {
        tracing::warn!(rcpt = %t.address, %script, error = %message, "sieve runtime error; message kept in INBOX");
        if let Err(e) = account.set_sieve_error(script, message).await {
            tracing::warn!(error = %e, "cannot record the sieve error");
        }
    }
    let mut new = new;
    if let Some(header) = &plan.edited_header {
        new = edited_copy(store, &served, header, new).await?;
    }
    execute(store, config, from, t, new, &message, (&account, limits), plan.actions).await
}

/// Runs the scripts in order (see the module docs for the rules).
fn evaluate(
    compiler: &Compiler,
    scripts: &[(String, Script)],
    msg: &Message,
    env: &Envelope,
    host: &mut DeliveryHost,
) -> Plan {
    let mut actions = Vec::new();
    let mut implicit_keep = true;
    let mut keep_flags = Vec::new();
    let mut edited_header = None;
    for (name, script) in scripts {
        match sieve::run(compiler, script, msg, env, host) {
            Ok(out) => {
                if let Some(why) = &out.vacation_suppressed {
                    tracing::info!(rcpt = %env.to, script = %name, reason = %why, "vacation: no reply sent");
                }
                if let Some(r) = out.actions.iter().find(|a| matches!(a, Action::Reject { .. })) {
                    return Plan { actions: vec![r.clone()], edited_header: None, error: None };
                }
                if out.edited_header.is_some() {
                    edited_header = out.edited_header.clone();
                }
                let n = out.actions.len();
                for (i, a) in out.actions.into_iter().enumerate() {
                    match a {
                        Action::Keep { flags } if out.implicit_keep && i + 1 == n => keep_flags = flags,
                        a => actions.push(a),
                    }
                }
                implicit_keep &= out.implicit_keep;
            }
            Err(e) => {
                return Plan {
                    actions: vec![Action::Keep { flags: vec![] }],
                    edited_header: None,
                    error: Some((name.clone(), e.to_string())),
                }
            }
        }
    }
    if implicit_keep {
        actions.push(Action::Keep { flags: keep_flags });
    }
    Plan { actions, edited_header, error: None }
}

/// The account's addresses (vacation does not answer them and answers only
/// mail addressed to one of them).
async fn user_addresses(store: &store::Store, t: &Target, delimiter: &str) -> Vec<String> {
    let store = store.clone();
    let account = t.account;
    let mut out = vec![strip_detail(&t.address, delimiter)];
    let listed = tokio::task::spawn_blocking(move || -> store::Result<Vec<String>> {
        let name = store.list_accounts()?.into_iter().find(|a| a.id == account).map(|a| a.name);
        let Some(name) = name else { return Ok(Vec::new()) };
        let mut v: Vec<String> = store
            .list_addresses()?
            .into_iter()
            .filter(|a| a.account == name && !a.address.starts_with('@'))
            .map(|a| a.address)
            .collect();
        if name.contains('@') {
            v.push(name.clone());
        }
        for d in store.list_domains()? {
            v.push(format!("{name}@{d}"));
        }
        Ok(v)
    })
    .await;
    if let Ok(Ok(v)) = listed {
        out.extend(v);
    }
    out
}

fn strip_detail(address: &str, delimiter: &str) -> String {
    let a = address.trim().trim_start_matches('<').trim_end_matches('>');
    match a.rsplit_once('@') {
        Some((local, domain)) if !delimiter.is_empty() => {
            let base = local.split_once(delimiter).map(|(b, _)| b).filter(|b| !b.is_empty()).unwrap_or(local);
            format!("{base}@{domain}")
        }
        _ => a.to_string(),
    }
}

/// editheader (RFC 5293): stores the rewritten header with the original body
/// as a blob of its own.
async fn edited_copy(
    store: &store::Store,
    served: &[u8],
    header: &str,
    mut new: NewMessage,
) -> Result<NewMessage, DeliveryError> {
    let body_at = served.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4).unwrap_or(served.len());
    let mut bytes = header.as_bytes().to_vec();
    bytes.extend_from_slice(b"\r\n");
    bytes.extend_from_slice(&served[body_at..]);
    let blobs = store.blobs().clone();
    let (blob, meta, size) = tokio::task::spawn_blocking(move || -> Result<_, DeliveryError> {
        let blob = blobs.write(&bytes)?;
        Ok((blob, crate::imap::fetch::compute_meta(&bytes), bytes.len() as u64))
    })
    .await
    .map_err(|e| DeliveryError::Task(e.to_string()))??;
    new.blob = blob;
    new.meta = meta;
    new.size = size;
    new.prefix = Vec::new();
    Ok(new)
}

/// imap4flags (RFC 5232) flag names → stored flags; `\Recent` and unknown
/// system flags are dropped, as are keywords the store would refuse.
pub fn to_flags(names: &[String]) -> store::Flags {
    let mut f = store::Flags::default();
    for n in names.iter().flat_map(|n| n.split_whitespace()) {
        match n.to_ascii_lowercase().as_str() {
            "\\seen" => f.system |= store::Flags::SEEN,
            "\\answered" => f.system |= store::Flags::ANSWERED,
            "\\flagged" => f.system |= store::Flags::FLAGGED,
            "\\deleted" => f.system |= store::Flags::DELETED,
            "\\draft" => f.system |= store::Flags::DRAFT,
            _ if n.starts_with('\\') => {}
            _ if n.chars().all(|c| c.is_ascii_graphic() && !"(){%*\"]\\".contains(c)) => f.keywords.push(n.to_string()),
            _ => {}
        }
    }
    f.normalize();
    f
}

#[allow(clippy::too_many_arguments)]
async fn execute(
    store: &store::Store,
    config: &Config,
    from: &str,
    t: &Target,
    new: NewMessage,
    message: &[u8],
    (account, limits): (&Account, store::QuotaLimits),
    actions: Vec<Action>,
) -> Result<Outcome, DeliveryError> {
    let mut out = Outcome::default();
    let mut done: Vec<String> = Vec::new();
    let mut copies: Vec<(String, Vec<String>)> = Vec::new();
    let hostname = crate::lmtp::hostname();
    for a in actions {
        match a {
            Action::Reject { reason, .. } => {
                tracing::info!(rcpt = %t.address, %reason, "sieve: message rejected");
                out.rejected = Some(reason);
                return Ok(out);
            }
            // `deliver --mailbox` makes that the keep mailbox; LMTP's is INBOX.
            Action::Keep { flags } => copies.push((normalize(&t.mailbox), flags)),
            Action::FileInto { mailbox, flags, create, special_use, .. } => {
                let mut target = normalize(&mailbox);
                let boxes = account.mailboxes().await?;
                if let Some(su) = &special_use {
                    if let Some(m) =
                        boxes.iter().find(|m| m.special_use.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(su)))
                    {
                        target = m.name.clone();
                    }
                }
                if !boxes.iter().any(|m| m.name == target) {
                    if create {
                        match account.create_mailbox(&target, special_use.as_deref()).await {
                            Ok(_) | Err(store::Error::MailboxExists(_)) => {}
                            Err(e) => {
                                tracing::warn!(rcpt = %t.address, mailbox = %target, error = %e, "fileinto :create failed; delivering to INBOX");
                                target = "INBOX".into();
                            }
                        }
                    } else {
                        tracing::warn!(rcpt = %t.address, mailbox = %target, "fileinto: no such mailbox (and no :create); delivering to INBOX");
                        target = "INBOX".into();
                    }
                }
                copies.push((target, flags));
            }
            Action::Discard => tracing::info!(rcpt = %t.address, "sieve: message discarded"),
            Action::Redirect { address, .. } => {
                match relay::send(config.submission.relay, &hostname, from, std::slice::from_ref(&address), message)
                    .await
                {
                    Ok(()) => tracing::info!(rcpt = %t.address, to = %address, "sieve: message redirected"),
                    Err(e) => {
                        tracing::warn!(rcpt = %t.address, to = %address, error = %e, "sieve redirect failed; keeping a copy in INBOX");
                        copies.push(("INBOX".into(), Vec::new()));
                    }
                }
            }
            Action::Vacation(v) => match account.vacation_claim(&v.handle, &v.to, v.period).await {
                Ok(true) => {
                    let reply_from = v
                        .from
                        .clone()
                        .unwrap_or_else(|| strip_detail(&t.address, &config.delivery.recipient_delimiter));
                    let reply = vacation_reply(&v, &reply_from, &hostname, message);
                    match relay::send(config.submission.relay, &hostname, "", std::slice::from_ref(&v.to), &reply).await
                    {
                        Ok(()) => tracing::info!(rcpt = %t.address, to = %v.to, "vacation reply sent"),
                        Err(e) => tracing::warn!(rcpt = %t.address, to = %v.to, error = %e, "vacation reply failed"),
                    }
                }
                Ok(false) => {
                    tracing::info!(rcpt = %t.address, to = %v.to, "vacation: already answered within the period")
                }
                Err(e) => tracing::warn!(error = %e, "vacation tracking failed; no reply sent"),
            },
        }
    }
    for (mailbox, flags) in copies {
        if done.contains(&mailbox) {
            continue;
        }
        done.push(mailbox.clone());
        let mut copy = new.clone();
        copy.flags = to_flags(&flags);
        let target = Target { mailbox, ..t.clone() };
        out.stored.push(store_one(store, &target, account, limits, copy, config.quota.warning_percent).await?);
    }
    Ok(out)
}

/// The reply (RFC 5230 §5, RFC 3834 §3): null return path (by the caller),
/// `Auto-Submitted: auto-replied`, In-Reply-To/References to the original.
fn vacation_reply(v: &sieve::Vacation, from: &str, hostname: &str, original: &[u8]) -> Vec<u8> {
    let now = chrono::Utc::now();
    let id = format!("<{}.{}@{}>", now.timestamp_nanos_opt().unwrap_or(0), rand::random::<u32>(), hostname);
    let mut h = String::new();
    let line = |s: &str| s.chars().filter(|c| !c.is_control()).collect::<String>();
    h.push_str(&format!("From: {}\r\n", line(from)));
    h.push_str(&format!("To: <{}>\r\n", line(&v.to)));
    h.push_str(&format!("Subject: {}\r\n", encode_word(&line(&v.subject))));
    h.push_str(&format!("Date: {}\r\n", now.format("%a, %d %b %Y %H:%M:%S +0000")));
    h.push_str(&format!("Message-ID: {id}\r\n"));
    if let Some(orig) = &v.in_reply_to {
        let orig = line(orig);
        let refs = Message::parse(original).header_values("references").first().map(|r| line(r));
        h.push_str(&format!("In-Reply-To: {orig}\r\n"));
        match refs {
            Some(r) if !r.trim().is_empty() => h.push_str(&format!("References: {} {orig}\r\n", r.trim())),
            _ => h.push_str(&format!("References: {orig}\r\n")),
        }
    }
    h.push_str("Auto-Submitted: auto-replied (vacation)\r\n");
    h.push_str("Precedence: bulk\r\n");
    h.push_str("MIME-Version: 1.0\r\n");
    let mut out = h.into_bytes();
    if v.mime {
        out.extend_from_slice(super::to_crlf(v.reason.as_bytes()).as_slice());
    } else {
        out.extend_from_slice(b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n");
        out.extend_from_slice(&super::to_crlf(v.reason.as_bytes()));
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// RFC 2047 B-encoding when the text is not plain ASCII.
fn encode_word(s: &str) -> String {
    if s.is_ascii() {
        return s.to_string();
    }
    use base64::Engine as _;
    format!("=?utf-8?b?{}?=", base64::engine::general_purpose::STANDARD.encode(s.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_map() {
        let f = to_flags(&["\\Seen \\Flagged".into(), "$Label1".into(), "\\Recent".into(), "bad(".into()]);
        assert_eq!(f.system, store::Flags::SEEN | store::Flags::FLAGGED);
        assert_eq!(f.keywords, vec!["$Label1".to_string()]);
    }

    #[test]
    fn details_are_stripped() {
        assert_eq!(strip_detail("<alice+x@example.org>", "+"), "alice@example.org");
        assert_eq!(strip_detail("alice@example.org", ""), "alice@example.org");
        assert_eq!(strip_detail("+x@example.org", "+"), "+x@example.org");
    }
}
