//! STATUS.

use imap_proto::{Data, MailboxName, StatusItem};
use store::MailboxStatus;

use super::{Done, Session};
use crate::imap::error::Result;

impl Session {
    /// RFC 9051 §6.3.11 STATUS: `status = "STATUS" SP mailbox SP "(" status-att *(SP status-att) ")"`;
    /// SIZE from RFC 8438; DELETED from RFC 9051.
    pub(super) async fn cmd_status(&mut self, name: &MailboxName, items: &[StatusItem]) -> Result<Done> {
        let mailbox = self.find_mailbox(name).await?;
        let status = self.account()?.status(mailbox.id).await?;
        let wire = self.wire_name(&mailbox.name);
        self.data(Data::Status { mailbox: wire, items: status_values(&status, items) });
        Ok(Done::ok("STATUS completed"))
    }
}

/// The requested STATUS items in the order asked. `RECENT` is always 0
/// (\Recent is not kept; IMAP4rev2 removed it).
pub fn status_values(s: &MailboxStatus, items: &[StatusItem]) -> Vec<(StatusItem, u64)> {
    items
        .iter()
        .map(|&i| {
            let v = match i {
                StatusItem::Messages => u64::from(s.messages),
                StatusItem::Recent => 0,
                StatusItem::UidNext => u64::from(s.uid_next),
                StatusItem::UidValidity => u64::from(s.uid_validity),
                StatusItem::Unseen => u64::from(s.unseen),
                StatusItem::Deleted => u64::from(s.deleted),
                StatusItem::Size => s.size,
                StatusItem::HighestModSeq => s.highest_modseq,
                // RFC 9208 §4.1.4: the sum of RFC822.SIZE of the \Deleted messages, in octets.
                StatusItem::DeletedStorage => s.deleted_size,
            };
            (i, v)
        })
        .collect()
}
