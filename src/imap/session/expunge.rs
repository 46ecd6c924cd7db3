//! EXPUNGE and UID EXPUNGE.

use imap_proto::{Code, SequenceSet};

use super::{Done, Session, State};
use crate::imap::error::{ImapError, Result};
use crate::imap::selected::expunge_responses;

impl Session {
    /// RFC 9051 §6.4.3 EXPUNGE and §6.4.9 UID EXPUNGE (RFC 4315 §2.1): removes
    /// `\Deleted` messages (only those in the UID set for UID EXPUNGE) and
    /// sends one `* n EXPUNGE` per message, each sequence number valid at the
    /// moment it is sent, or `* VANISHED` with QRESYNC (RFC 7162 §3.2.10).
    pub(super) async fn cmd_expunge(&mut self, uid_set: Option<SequenceSet>) -> Result<Done> {
        let account = self.account()?;
        let restrict = match &uid_set {
            Some(set) => {
                let set = self.resolve_saved(set, true)?;
                let view = self.view()?;
                let largest = view.largest_uid();
                Some(view.uids.iter().copied().filter(|&u| set.contains(u, largest)).collect::<Vec<_>>())
            }
            None => None,
        };
        let view = self.view()?;
        if view.read_only {
            return Err(ImapError::no(Code::Cannot, "mailbox is read-only"));
        }
        let id = view.mailbox.id;
        let expunged = account.expunge(id, restrict).await?;
        let State::Selected { view, .. } = &mut self.state else {
            return Ok(Done::ok("EXPUNGE completed"));
        };
        for d in expunge_responses(view, &expunged, self.enabled.qresync) {
            self.data(d);
        }
        Ok(Done::ok("EXPUNGE completed"))
    }
}
