//! DELETE.

use imap_proto::{Code, MailboxName};

use super::{Done, Session, State};
use crate::imap::error::{ImapError, Result};

impl Session {
    /// RFC 9051 §6.3.5 DELETE. INBOX cannot be deleted; a mailbox with
    /// children is refused with `[HASCHILDREN]` (RFC 5530) rather than turned
    /// into a `\Noselect` placeholder. Deleting the selected mailbox is refused
    /// (`[INUSE]`): the client must leave it first.
    pub(super) async fn cmd_delete(&mut self, name: &MailboxName) -> Result<Done> {
        let internal = self.mailbox_name(name)?;
        if internal == "INBOX" {
            return Err(ImapError::no(Code::Cannot, "INBOX cannot be deleted"));
        }
        if let State::Selected { view, .. } = &self.state {
            if view.mailbox.name == internal {
                return Err(ImapError::no(Code::InUse, "mailbox is selected; CLOSE or UNSELECT it first"));
            }
        }
        self.account()?.delete_mailbox(&internal).await?;
        Ok(Done::ok("DELETE completed"))
    }
}
