//! STORE and UID STORE.

use imap_proto::{Code, Data, FetchValue, SequenceSet, StoreAction, StoreMode};
use store::FlagOp;

use super::{Done, Session, State};
use crate::imap::convert::{flags_from_wire, flags_to_wire};
use crate::imap::error::{ImapError, Result};

impl Session {
    /// RFC 9051 §6.4.6 STORE: `store = "STORE" SP sequence-set [store-modifiers] SP store-att-flags`;
    /// RFC 7162 §3.1.3 UNCHANGEDSINCE with `[MODIFIED set]`. Without
    /// `.SILENT` every message's new flags are sent as `FETCH (FLAGS …)`
    /// (with UID for UID STORE; with UID and MODSEQ once CONDSTORE is on).
    pub(super) async fn cmd_store(
        &mut self,
        uid: bool,
        set: &SequenceSet,
        action: StoreAction,
        unchanged_since: Option<u64>,
    ) -> Result<Done> {
        let account = self.account()?;
        let uids = self.resolve_uids(set, uid)?;
        let view = self.view()?;
        if view.read_only {
            return Err(ImapError::no(Code::Cannot, "mailbox is read-only"));
        }
        let mailbox = view.mailbox.id;
        let op = match action.mode {
            StoreMode::Replace => FlagOp::Replace,
            StoreMode::Add => FlagOp::Add,
            StoreMode::Remove => FlagOp::Remove,
        };
        let flags = flags_from_wire(&action.flags);
        let (updated, modified) = if uids.is_empty() {
            (Vec::new(), Vec::new())
        } else {
            account.store_flags(mailbox, uids, op, flags, unchanged_since).await?
        };
        let State::Selected { view, .. } = &mut self.state else {
            return Err(ImapError::Internal("STORE outside the selected state".into()));
        };
        let condstore = self.enabled.condstore;
        let mut out = Vec::new();
        for s in &updated {
            let Some(seq) = view.seq_of(s.uid) else { continue };
            view.set_flags(s.uid, s.modseq);
            // RFC 7162 §3.1.3: with UNCHANGEDSINCE the FETCH is sent even
            // with .SILENT, so the client learns the new MODSEQ.
            if !action.silent || unchanged_since.is_some() {
                let mut items = vec![FetchValue::Flags(flags_to_wire(&s.flags))];
                if uid || condstore {
                    items.insert(0, FetchValue::Uid(s.uid));
                }
                if condstore {
                    items.push(FetchValue::ModSeq(s.modseq));
                }
                out.push(Data::Fetch { seq, items });
            }
        }
        let modified: Vec<u32> = if uid { modified } else { modified.iter().filter_map(|u| view.seq_of(*u)).collect() };
        for d in out {
            self.data(d);
        }
        if let Some(set) = SequenceSet::from_numbers(modified) {
            return Ok(Done::with_code(Code::Modified(set), "conditional STORE failed for some messages"));
        }
        Ok(Done::ok("STORE completed"))
    }
}
