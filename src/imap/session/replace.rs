//! REPLACE and UID REPLACE (RFC 8508).

use imap_proto::{AppendMessage, Code, MailboxName, SeqNum, SequenceSet};

use super::{Done, Session, State};
use crate::imap::error::{ImapError, Result};

impl Session {
    /// RFC 8508 §3.2 REPLACE and §3.3 UID REPLACE:
    /// `replace = "REPLACE" SP seq-number SP mailbox append-message`.
    /// Appends the message (CATENATE and APPENDLIMIT as for APPEND) to the
    /// named mailbox and expunges the old one from the selected mailbox in one
    /// store transaction (§3.4): quota counts only the net change, and when
    /// the append fails (TRYCREATE, TOOBIG, BADURL, OVERQUOTA) the old
    /// message stays and no EXPUNGE is sent. Responses as §3.2 and §4.3:
    /// `* OK [APPENDUID …]` first, then EXPUNGE (VANISHED with QRESYNC,
    /// §4.5) and EXISTS, then the tagged OK.
    pub(super) async fn cmd_replace(
        &mut self,
        uid: bool,
        target: SeqNum,
        mailbox: &MailboxName,
        message: AppendMessage,
    ) -> Result<Done> {
        let account = self.account()?;
        let old = self.resolve_uids(&SequenceSet::Ranges(vec![(target, target)]), uid)?;
        let Some(&old) = old.first() else {
            return Err(ImapError::no(Code::Nonexistent, "no such message to replace"));
        };
        let view = self.view()?;
        if view.read_only {
            return Err(ImapError::no(Code::Cannot, "mailbox is read-only"));
        }
        let from = view.mailbox.id;
        let dest = self.append_target(&account, mailbox).await?;
        let new = self.new_message(&account, message).await?;
        let limits = self.quota_limits(&account).await?;
        let (uid_validity, uids, usage) =
            match account.replace_within(dest.id, vec![new], limits, Some((from, old))).await {
                Ok(r) => r,
                // Expunged by another session in the meantime.
                Err(store::Error::NotFound(_)) => {
                    return Err(ImapError::no(Code::ExpungeIssued, "the message to replace was expunged"))
                }
                Err(e) => return Err(e.into()),
            };
        self.quota_after_write(&account, limits, usage).await;
        if let Some(uids) = SequenceSet::from_numbers(uids) {
            self.untagged_ok(Code::AppendUid { uid_validity, uids }, "Replacement Message ready");
        }
        let State::Selected { view, .. } = &mut self.state else {
            return Ok(Done::ok("REPLACE completed"));
        };
        for d in crate::imap::selected::expunge_responses(view, &[old], self.enabled.qresync) {
            self.data(d);
        }
        Ok(Done::ok(if uid { "UID REPLACE completed" } else { "REPLACE completed" }))
    }
}
