//! LSUB.

use std::collections::BTreeSet;

use imap_proto::{Data, MailboxName};

use super::list::matches_pattern;
use super::{Done, Session};
use crate::imap::error::Result;

impl Session {
    /// RFC 3501 §6.3.9 LSUB (deprecated by IMAP4rev2, still sent by clients).
    pub(super) async fn cmd_lsub(&mut self, reference: &MailboxName, pattern: &MailboxName) -> Result<Done> {
        let account = self.account()?;
        let pattern = format!("{}{}", self.mailbox_name(reference)?, self.mailbox_name(pattern)?);
        let existing: BTreeSet<String> = account.mailboxes().await?.into_iter().map(|m| m.name).collect();
        for name in account.subscriptions().await? {
            if !matches_pattern(&pattern, &name) {
                continue;
            }
            let attrs = if existing.contains(&name) { Vec::new() } else { vec!["\\Noselect".to_string()] };
            let wire = self.wire_name(&name);
            self.data(Data::Lsub { attributes: attrs, delimiter: Some('/'), name: wire });
        }
        Ok(Done::ok("LSUB completed"))
    }
}
