//! RENAME.

use imap_proto::{Code, MailboxName};

use super::create::validate_name;
use super::{Done, Session};
use crate::imap::error::{ImapError, Result};

impl Session {
    /// RFC 9051 §6.3.6 RENAME: children move with their parent; renaming
    /// INBOX moves its messages to the new name and leaves INBOX empty.
    pub(super) async fn cmd_rename(&mut self, from: &MailboxName, to: &MailboxName) -> Result<Done> {
        let from = self.mailbox_name(from)?;
        let mut to = self.mailbox_name(to)?;
        while to.ends_with('/') {
            to.pop();
        }
        validate_name(&to)?;
        if to == "INBOX" {
            return Err(ImapError::no(Code::AlreadyExists, "INBOX always exists"));
        }
        if to.starts_with(&format!("{from}/")) {
            return Err(ImapError::no(Code::Cannot, "cannot move a mailbox into itself"));
        }
        self.account()?.rename_mailbox(&from, &to).await?;
        Ok(Done::ok("RENAME completed"))
    }
}
