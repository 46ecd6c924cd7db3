//! COPY, UID COPY, MOVE, UID MOVE.

use imap_proto::{Code, MailboxName, SequenceSet};

use super::{Done, Session, State};
use crate::imap::error::{ImapError, Result};

impl Session {
    /// RFC 9051 §6.4.7 COPY and §6.4.8 MOVE (RFC 6851); `[COPYUID]` from
    /// RFC 4315 §3. MOVE sends `* OK [COPYUID …]` untagged, then the
    /// EXPUNGEs, then the tagged OK (RFC 6851 §4.3). A missing destination
    /// gives `NO [TRYCREATE]`.
    pub(super) async fn cmd_copy(
        &mut self,
        uid: bool,
        set: &SequenceSet,
        dest: &MailboxName,
        is_move: bool,
    ) -> Result<Done> {
        let account = self.account()?;
        let internal = self.mailbox_name(dest)?;
        let target = account
            .mailbox(&internal)
            .await?
            .ok_or_else(|| ImapError::no(Code::TryCreate, format!("no such mailbox: {}", dest.0)))?;
        let uids = self.resolve_uids(set, uid)?;
        let view = self.view()?;
        if is_move && view.read_only {
            return Err(ImapError::no(Code::Cannot, "mailbox is read-only"));
        }
        let source = view.mailbox.id;
        if uids.is_empty() {
            // RFC 9051 §6.4.7: a UID set that matches nothing is not an error.
            return Ok(Done::ok(if is_move { "MOVE completed" } else { "COPY completed" }));
        }
        let result = if is_move {
            account.move_messages(source, uids, target.id).await?
        } else {
            // A MOVE within the account leaves usage unchanged; a COPY adds
            // (RFC 9208 §4.3: NO [OVERQUOTA]).
            let limits = self.quota_limits(&account).await?;
            let (result, usage) = account.copy_within(source, uids, target.id, limits).await?;
            self.quota_after_write(&account, limits, usage).await;
            result
        };
        let code = if result.mapping.is_empty() {
            None
        } else {
            let (src, dst): (Vec<u32>, Vec<u32>) = result.mapping.iter().copied().unzip();
            match (SequenceSet::from_numbers(src), SequenceSet::from_numbers(dst)) {
                (Some(source), Some(dest)) => Some(Code::CopyUid { uid_validity: result.uid_validity, source, dest }),
                _ => None,
            }
        };
        if !is_move {
            return Ok(Done { code, text: "COPY completed".into(), after: super::After::Continue });
        }
        if let Some(code) = code {
            self.untagged_ok(code, "moved");
        }
        let State::Selected { view, .. } = &mut self.state else {
            return Ok(Done::ok("MOVE completed"));
        };
        let moved: Vec<u32> = result.mapping.iter().map(|&(src, _)| src).collect();
        for d in crate::imap::selected::expunge_responses(view, &moved, self.enabled.qresync) {
            self.data(d);
        }
        Ok(Done::ok("MOVE completed"))
    }

    /// The UIDs of a sequence set or UID set, in view order. Sequence numbers
    /// beyond EXISTS are an error (RFC 9051 §6.4.5: "BAD … invalid sequence
    /// number"); UIDs that do not exist are skipped (RFC 9051 §6.4.8).
    pub(super) fn resolve_uids(&mut self, set: &SequenceSet, uid: bool) -> Result<Vec<u32>> {
        let set = self.resolve_saved(set, uid)?;
        let view = self.view()?;
        if uid {
            let largest = view.largest_uid();
            return Ok(view.uids.iter().copied().filter(|&u| set.contains(u, largest)).collect());
        }
        let exists = view.exists();
        if let SequenceSet::Ranges(ranges) = &set {
            // RFC 9051 §9 (seq-number): numbers beyond EXISTS are a BAD, "This
            // includes "*" if the selected mailbox is empty."
            for &(a, b) in ranges {
                for n in [a, b] {
                    match n {
                        imap_proto::SeqNum::Value(v) if v > exists => {
                            return Err(ImapError::bad(format!("invalid sequence number {v} (EXISTS is {exists})")));
                        }
                        imap_proto::SeqNum::Largest if exists == 0 => {
                            return Err(ImapError::bad("\"*\" names no message: the mailbox is empty"));
                        }
                        _ => {}
                    }
                }
            }
        }
        Ok(view.uids.iter().enumerate().filter(|(i, _)| set.contains(*i as u32 + 1, exists)).map(|(_, &u)| u).collect())
    }
}
