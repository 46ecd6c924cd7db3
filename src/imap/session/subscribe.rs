//! SUBSCRIBE and UNSUBSCRIBE.

use imap_proto::MailboxName;

use super::{Done, Session};
use crate::imap::error::Result;

impl Session {
    /// RFC 9051 §6.3.7 SUBSCRIBE and §6.3.8 UNSUBSCRIBE. A subscription may
    /// name a mailbox that does not exist (it is listed `\NonExistent`).
    pub(super) async fn cmd_subscribe(&mut self, name: &MailboxName, subscribe: bool) -> Result<Done> {
        let internal = self.mailbox_name(name)?;
        self.account()?.set_subscribed(&internal, subscribe).await?;
        Ok(Done::ok(if subscribe { "SUBSCRIBE completed" } else { "UNSUBSCRIBE completed" }))
    }
}
