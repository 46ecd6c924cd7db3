//! GETQUOTA, GETQUOTAROOT, SETQUOTA (RFC 9208), and the quota checks of
//! APPEND and COPY.
//!
//! Every account is one quota root named `""` that governs all its mailboxes
//! (RFC 9208 §3.1). Resources: STORAGE (sum of RFC822.SIZE, reported in units
//! of 1024 octets: usage rounded up, limit rounded down) and MESSAGE. A
//! resource without a limit is left out; an account without any limit has no
//! quota root (`* QUOTAROOT INBOX` alone, GETQUOTA "" → `NO [NONEXISTENT]`).
//! SETQUOTA is for administrators, and no IMAP user is one: limits are set
//! with `postfach quota set`.

use imap_proto::{Code, Data, MailboxName};
use store::{Account, QuotaLimits, QuotaUsage};

use super::{Done, Session, State};
use crate::imap::error::{ImapError, Result};
use crate::quota::{kib_limit, kib_usage, ROOT};

/// The `quota-list` of an account: one entry per limited resource.
pub fn quota_resources(limits: &QuotaLimits, usage: &QuotaUsage) -> Vec<(String, u64, u64)> {
    let mut out = Vec::new();
    if let Some(l) = limits.storage {
        out.push(("STORAGE".to_string(), kib_usage(usage.storage), kib_limit(l)));
    }
    if let Some(l) = limits.messages {
        out.push(("MESSAGE".to_string(), usage.messages, l));
    }
    out
}

impl Session {
    /// The logged-in user's name.
    pub(super) fn user_name(&self) -> String {
        match &self.state {
            State::Authenticated { user, .. } | State::Selected { user, .. } => user.clone(),
            _ => String::new(),
        }
    }

    /// The account's limits, read fresh from the directory.
    pub(super) async fn quota_limits(&self, account: &Account) -> Result<QuotaLimits> {
        let store = self.shared.store.clone();
        let id = account.id();
        Ok(tokio::task::spawn_blocking(move || store.quota_limits(id))
            .await
            .map_err(|e| ImapError::Internal(e.to_string()))??)
    }

    /// After a successful APPEND or COPY: the usage warning, if due.
    pub(super) async fn quota_after_write(
        &self,
        account: &Account,
        limits: QuotaLimits,
        change: Option<store::UsageChange>,
    ) {
        let percent = self.shared.config.quota.warning_percent;
        let user = self.user_name();
        crate::quota::after_write(&self.shared.store, account, &user, limits, change, percent).await;
    }

    async fn quota_data(&mut self) -> Result<Option<Data>> {
        let account = self.account()?;
        let limits = self.quota_limits(&account).await?;
        if limits.is_unlimited() {
            return Ok(None);
        }
        let usage = account.usage().await?;
        Ok(Some(Data::Quota { root: ROOT.into(), resources: quota_resources(&limits, &usage) }))
    }

    /// RFC 9208 §4.2.1 `getquota = "GETQUOTA" SP quota-root-name`
    pub(super) async fn cmd_getquota(&mut self, root: &str) -> Result<Done> {
        match self.quota_data().await? {
            Some(data) if root == ROOT => {
                self.data(data);
                Ok(Done::ok("GETQUOTA completed"))
            }
            _ => Err(ImapError::no(Code::Nonexistent, format!("no such quota root: {root:?}"))),
        }
    }

    /// RFC 9208 §4.2.2 `getquotaroot = "GETQUOTAROOT" SP mailbox`
    pub(super) async fn cmd_getquotaroot(&mut self, mailbox: &MailboxName) -> Result<Done> {
        let mb = self.find_mailbox(mailbox).await?;
        let wire = self.wire_name(&mb.name);
        let quota = self.quota_data().await?;
        let roots = if quota.is_some() { vec![ROOT.to_string()] } else { Vec::new() };
        self.data(Data::QuotaRoot { mailbox: wire, roots });
        if let Some(q) = quota {
            self.data(q);
        }
        Ok(Done::ok("GETQUOTAROOT completed"))
    }

    /// RFC 9208 §4.2.3 SETQUOTA: only administrators may change limits, and
    /// no IMAP user is one (`postfach quota set` does it).
    pub(super) fn cmd_setquota(&mut self) -> Result<Done> {
        Err(ImapError::no(
            Code::NoPerm,
            "only the server administrator can change quotas (postfach quota set on the server)",
        ))
    }
}
