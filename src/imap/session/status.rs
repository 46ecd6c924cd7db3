//! STATUS.

use imap_proto::{Data, MailboxName, StatusItem};
use store::{MailboxInfo, MailboxStatus};

use super::{Done, Session};
use crate::imap::error::Result;

impl Session {
    /// RFC 9051 §6.3.11 STATUS: `status = "STATUS" SP mailbox SP "(" status-att *(SP status-att) ")"`;
    /// SIZE from RFC 8438; DELETED from RFC 9051; MAILBOXID from RFC 8474 §4.2;
    /// APPENDLIMIT from RFC 7889 §3.1.
    pub(super) async fn cmd_status(&mut self, name: &MailboxName, items: &[StatusItem]) -> Result<Done> {
        let mailbox = self.find_mailbox(name).await?;
        let status = self.account()?.status(mailbox.id).await?;
        let wire = self.wire_name(&mailbox.name);
        self.data(status_data(wire, &mailbox, &status, items, self.append_limit()));
        Ok(Done::ok("STATUS completed"))
    }
}

/// The STATUS response for `items` (also LIST-STATUS): with `MAILBOXID`
/// among them, the form that carries the mailbox's object id.
pub fn status_data(
    wire: String,
    mailbox: &MailboxInfo,
    s: &MailboxStatus,
    items: &[StatusItem],
    append_limit: u64,
) -> Data {
    let values = status_values(s, items, append_limit);
    if items.contains(&StatusItem::MailboxId) {
        Data::StatusWithMailboxId { mailbox: wire, items: values, mailbox_id: mailbox.object_id.clone() }
    } else {
        Data::Status { mailbox: wire, items: values }
    }
}

/// The requested numeric STATUS items in the order asked (`MAILBOXID`, a
/// string, is left out: see [`status_data`]). `RECENT` counts the
/// messages no session has taken as `\Recent` yet (RFC 3501 §2.3.2). `append_limit` is the
/// server's APPENDLIMIT (the same for every mailbox).
pub fn status_values(s: &MailboxStatus, items: &[StatusItem], append_limit: u64) -> Vec<(StatusItem, u64)> {
    items
        .iter()
        .filter(|&&i| i != StatusItem::MailboxId)
        .map(|&i| {
            let v = match i {
                StatusItem::Messages => u64::from(s.messages),
                StatusItem::Recent => u64::from(s.recent),
                StatusItem::UidNext => u64::from(s.uid_next),
                StatusItem::UidValidity => u64::from(s.uid_validity),
                StatusItem::Unseen => u64::from(s.unseen),
                StatusItem::Deleted => u64::from(s.deleted),
                StatusItem::Size => s.size,
                StatusItem::HighestModSeq => s.highest_modseq,
                StatusItem::MailboxId => 0,
                // RFC 9208 §4.1.4: the sum of RFC822.SIZE of the \Deleted messages, in octets.
                StatusItem::DeletedStorage => s.deleted_size,
                // RFC 7889 §3.1, §3.2 (also in LIST-STATUS).
                StatusItem::AppendLimit => append_limit,
            };
            (i, v)
        })
        .collect()
}
