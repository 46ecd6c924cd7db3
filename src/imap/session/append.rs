//! APPEND (with MULTIAPPEND).

use imap_proto::{AppendMessage, Code, Literal, MailboxName, SequenceSet};
use store::NewMessage;

use super::{Done, Session};
use crate::imap::convert::{datetime_to_unix, flags_from_wire};
use crate::imap::error::{ImapError, Result};

impl Session {
    /// RFC 9051 §6.3.12 APPEND: `append = "APPEND" SP mailbox [SP flag-list] [SP date-time] SP literal`;
    /// RFC 3502 MULTIAPPEND (all messages or none); RFC 4315 §3 `[APPENDUID]`.
    /// Each message is written to a blob file and fsynced, then all rows are
    /// committed in one transaction, and only then is OK sent (DESIGN.md §2
    /// invariant 3). A missing mailbox gives `NO [TRYCREATE]`.
    pub(super) async fn cmd_append(&mut self, name: &MailboxName, messages: Vec<AppendMessage>) -> Result<Done> {
        let account = self.account()?;
        let internal = self.mailbox_name(name)?;
        let mailbox = account
            .mailbox(&internal)
            .await?
            .ok_or_else(|| ImapError::no(Code::TryCreate, format!("no such mailbox: {}", name.0)))?;
        let mut new = Vec::with_capacity(messages.len());
        for m in messages {
            if m.utf8 && !self.enabled.utf8_accept {
                // RFC 6855 §4: only after ENABLE UTF8=ACCEPT.
                return Err(ImapError::bad("UTF8 APPEND requires ENABLE UTF8=ACCEPT"));
            }
            if m.data.is_empty() {
                return Err(ImapError::no(Code::Cannot, "empty message"));
            }
            let blobs = self.shared.store.blobs().clone();
            let binary = m.binary;
            let data = m.data;
            let (blob, size, meta) = tokio::task::spawn_blocking(move || -> Result<_> {
                let bytes = match data {
                    Literal::Memory(v) => v,
                    Literal::File { path, .. } => std::fs::read(path)?,
                };
                // RFC 3516 §4.4: NUL only through a literal8.
                if !binary && bytes.contains(&0) {
                    return Err(ImapError::no(Code::Cannot, "message contains NUL; use a literal8 (~{N})"));
                }
                let meta = crate::imap::fetch::compute_meta(&bytes);
                let id = blobs.write(&bytes)?;
                Ok((id, bytes.len() as u64, meta))
            })
            .await
            .map_err(|e| ImapError::Internal(e.to_string()))??;
            let (internal_date, internal_date_zone) = match &m.date {
                Some(dt) => datetime_to_unix(dt),
                None => (chrono::Utc::now().timestamp(), 0),
            };
            new.push(NewMessage {
                blob,
                size,
                prefix: Vec::new(),
                flags: flags_from_wire(&m.flags),
                internal_date,
                internal_date_zone,
                meta,
            });
        }
        // RFC 9208 §4.3: over quota → NO [OVERQUOTA]; MULTIAPPEND counts all
        // messages together (all or none).
        let limits = self.quota_limits(&account).await?;
        let (uid_validity, uids, usage) = account.append_within(mailbox.id, new, limits).await?;
        self.quota_after_write(&account, limits, usage).await;
        let uids =
            SequenceSet::from_numbers(uids).ok_or_else(|| ImapError::Internal("append returned no UID".into()))?;
        Ok(Done::with_code(Code::AppendUid { uid_validity, uids }, "APPEND completed"))
    }
}
