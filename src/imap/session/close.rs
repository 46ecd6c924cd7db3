//! CLOSE.

use super::{Done, Session};
use crate::imap::error::Result;

impl Session {
    /// RFC 9051 §6.4.1 CLOSE: expunges `\Deleted` messages silently (unless
    /// the mailbox is read-only) and returns to the Authenticated state.
    pub(super) async fn cmd_close(&mut self) -> Result<Done> {
        let account = self.account()?;
        let view = self.view()?;
        if !view.read_only {
            let id = view.mailbox.id;
            account.expunge(id, None).await?;
        }
        self.deselect(false);
        Ok(Done::ok("CLOSE completed"))
    }
}
