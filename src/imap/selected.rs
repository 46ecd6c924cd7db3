//! The selected mailbox as this client knows it (DESIGN.md §3): the ordered
//! UIDs (sequence numbers are positions), the flags last told, and the MODSEQ
//! the view was brought up to. Changes made by other sessions and deliveries
//! are read from the store with `changes_since` and told to the client as
//! `EXISTS`, `FETCH (FLAGS …)` and `EXPUNGE`.

use std::collections::BTreeSet;

use imap_proto::{Data, FetchValue};
use store::{Flags, MailboxInfo, MessageSummary};

use super::convert::flags_to_wire;
use super::error::Result;
use super::session::{Session, State};

pub struct View {
    pub mailbox: MailboxInfo,
    pub read_only: bool,
    /// `uids[i]` is the UID of message sequence number `i + 1`.
    pub uids: Vec<u32>,
    /// Flags as last told to the client, parallel to `uids`.
    pub flags: Vec<Flags>,
    /// Every change up to this MODSEQ has been applied to the view (though
    /// expunges may still be pending).
    pub modseq: u64,
    /// Expunged in the store but not yet told: they keep their sequence
    /// numbers until a command that allows EXPUNGE responses.
    pub pending_expunge: BTreeSet<u32>,
    /// The SEARCHRES result (`$`, RFC 5182), as UIDs.
    pub saved: Vec<u32>,
}

impl View {
    pub fn new(mailbox: MailboxInfo, read_only: bool, modseq: u64, summaries: Vec<MessageSummary>) -> View {
        let (uids, flags) = summaries.into_iter().map(|s| (s.uid, s.flags)).unzip();
        View { mailbox, read_only, uids, flags, modseq, pending_expunge: BTreeSet::new(), saved: Vec::new() }
    }

    pub fn exists(&self) -> u32 {
        self.uids.len() as u32
    }

    pub fn seq_of(&self, uid: u32) -> Option<u32> {
        self.uids.binary_search(&uid).ok().map(|i| i as u32 + 1)
    }

    pub fn largest_uid(&self) -> u32 {
        self.uids.last().copied().unwrap_or(0)
    }

    /// Removes a message from the view; returns its old sequence number.
    pub fn remove(&mut self, uid: u32) -> Option<u32> {
        let i = self.uids.binary_search(&uid).ok()?;
        self.uids.remove(i);
        self.flags.remove(i);
        self.pending_expunge.remove(&uid);
        Some(i as u32 + 1)
    }

    /// Records flags the client has been told (after STORE/FETCH).
    pub fn set_flags(&mut self, uid: u32, flags: &Flags) {
        if let Ok(i) = self.uids.binary_search(&uid) {
            self.flags[i] = flags.clone();
        }
    }
}

impl Session {
    /// Brings the client's view up to date with the store (DESIGN.md §3).
    /// EXPUNGE responses are sent only when `allow_expunge`; otherwise those
    /// messages keep their sequence numbers until a later command.
    pub async fn sync_selected(&mut self, allow_expunge: bool) -> Result<()> {
        let State::Selected { account, view, .. } = &mut self.state else {
            return Ok(());
        };
        // Drain the feed: its only job is to say "something changed"; the store
        // is the source of truth.
        let mut changed = false;
        if let Some(feed) = &mut self.feed {
            loop {
                match feed.try_recv() {
                    Ok(store::Change::Mailbox { mailbox, modseq }) => {
                        changed |= mailbox == view.mailbox.id && modseq > view.modseq;
                    }
                    Ok(store::Change::MailboxList) => {}
                    Err(tokio::sync::broadcast::error::TryRecvError::Lagged(_)) => changed = true,
                    Err(_) => break,
                }
            }
        } else {
            changed = true;
        }
        if !changed && (view.pending_expunge.is_empty() || !allow_expunge) {
            return Ok(());
        }
        let changes = account.changes_since(view.mailbox.id, view.modseq).await?;
        let mut out = Vec::new();
        for uid in changes.expunged {
            if view.seq_of(uid).is_some() {
                view.pending_expunge.insert(uid);
            }
        }
        if allow_expunge {
            for uid in std::mem::take(&mut view.pending_expunge) {
                if let Some(seq) = view.remove(uid) {
                    out.push(Data::Expunge(seq));
                }
            }
        }
        let before = view.exists();
        let mut flag_updates = Vec::new();
        for s in changes.changed {
            match view.uids.binary_search(&s.uid) {
                Ok(i) => {
                    if view.flags[i] != s.flags {
                        view.flags[i] = s.flags.clone();
                        flag_updates.push(s.uid);
                    }
                }
                Err(i) if i == view.uids.len() => {
                    view.uids.push(s.uid);
                    view.flags.push(s.flags);
                }
                // Older than our newest but unknown: expunged before we saw it.
                Err(_) => {}
            }
        }
        view.modseq = view.modseq.max(changes.highest_modseq);
        if view.exists() != before {
            out.push(Data::Exists(view.exists()));
        }
        for uid in flag_updates {
            if let Ok(i) = view.uids.binary_search(&uid) {
                out.push(Data::Fetch {
                    seq: i as u32 + 1,
                    items: vec![FetchValue::Uid(uid), FetchValue::Flags(flags_to_wire(&view.flags[i]))],
                });
            }
        }
        for d in out {
            self.data(d);
        }
        Ok(())
    }
}
