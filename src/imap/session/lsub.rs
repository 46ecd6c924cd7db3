//! LSUB.

use std::collections::BTreeSet;

use imap_proto::{Data, MailboxName};

use super::list::matches_pattern;
use super::{Done, Session};
use crate::imap::error::Result;

impl Session {
    /// RFC 3501 §6.3.9 LSUB (deprecated by IMAP4rev2, still sent by clients).
    ///
    /// "foo/bar" subscribed but "foo" not: a `%` that stops at "foo" MUST
    /// return "foo", flagged `\Noselect`.
    pub(super) async fn cmd_lsub(&mut self, reference: &MailboxName, pattern: &MailboxName) -> Result<Done> {
        let account = self.account()?;
        let pattern = format!("{}{}", self.mailbox_name(reference)?, self.mailbox_name(pattern)?);
        let existing: BTreeSet<String> = account.mailboxes().await?.into_iter().map(|m| m.name).collect();
        let subscribed: BTreeSet<String> = account.subscriptions().await?.into_iter().collect();
        let mut listed = BTreeSet::new();
        for name in &subscribed {
            if matches_pattern(&pattern, name) {
                let noselect = !existing.contains(name);
                listed.insert((name.clone(), noselect));
                continue;
            }
            let parents = name.match_indices('/').map(|(i, _)| &name[..i]);
            for parent in parents.filter(|p| !subscribed.contains(*p) && matches_pattern(&pattern, p)) {
                listed.insert((parent.to_string(), true));
            }
        }
        for (name, noselect) in listed {
            let attrs = if noselect { vec!["\\Noselect".to_string()] } else { Vec::new() };
            let wire = self.wire_name(&name);
            self.data(Data::Lsub { attributes: attrs, delimiter: Some('/'), name: wire });
        }
        Ok(Done::ok("LSUB completed"))
    }
}
