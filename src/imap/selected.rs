//! The selected mailbox as this client knows it (DESIGN.md §3): the ordered
//! UIDs (sequence numbers are positions) and the MODSEQ the view was brought
//! up to. Changes made by other sessions and deliveries are read from the
//! store with `changes_since` and told to the client as `EXISTS`,
//! `FETCH (FLAGS …)` and `EXPUNGE`.
//!
//! The view holds no flags: a message whose MODSEQ grew past the view's has
//! changed, and its new flags are sent, unless this session already told them
//! at that MODSEQ (its own STORE, or `\Seen` set by its FETCH: `told`). So
//! SELECT needs only the UID list, which the store keeps cached
//! ([`store::MailboxSnapshot`]), and a 100 000-message mailbox costs 400 KB per
//! session instead of a `Flags` per message.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use imap_proto::{Data, FetchValue};
use store::{Flags, MailboxInfo};

use super::context::{self, Contexts};
use super::convert::flags_to_wire;
use super::error::Result;
use super::session::{Session, State};

pub struct View {
    pub mailbox: MailboxInfo,
    pub read_only: bool,
    /// `uids[i]` is the UID of message sequence number `i + 1`.
    /// Shared with the mailbox snapshot it came from until the first change
    /// (`Arc::make_mut`).
    pub uids: Arc<Vec<u32>>,
    /// Messages whose flags this session told the client at a MODSEQ above
    /// `modseq` (UID → that MODSEQ): a sync does not repeat them. Entries at or
    /// below `modseq` are dropped by each sync, so this stays small.
    pub told: HashMap<u32, u64>,
    /// Every change up to this MODSEQ has been applied to the view (though
    /// expunges may still be pending).
    pub modseq: u64,
    /// Expunged in the store but not yet told: they keep their sequence
    /// numbers until a command that allows EXPUNGE responses.
    pub pending_expunge: BTreeSet<u32>,
    /// The SEARCHRES result (`$`, RFC 5182), as UIDs.
    pub saved: Vec<u32>,
    /// RFC 5267 §4 update contexts; they end with the view.
    pub contexts: Contexts,
    /// Keywords the client was told in `FLAGS` (SELECT, or later when a
    /// keyword first appeared: RFC 9051 §7.3.5).
    pub keywords: Vec<String>,
    /// UID ranges recent for this session (RFC 3501 §2.3.2 `\Recent`), claimed
    /// from the store by a read-write IMAP4rev1 session.
    pub recent: Vec<(u32, u32)>,
}

impl View {
    pub fn new(mailbox: MailboxInfo, read_only: bool, modseq: u64, uids: Arc<Vec<u32>>) -> View {
        View {
            mailbox,
            read_only,
            uids,
            told: HashMap::new(),
            modseq,
            pending_expunge: BTreeSet::new(),
            saved: Vec::new(),
            contexts: Contexts::default(),
            keywords: Vec::new(),
            recent: Vec::new(),
        }
    }

    /// Whether `uid` is `\Recent` for this session.
    pub fn is_recent(&self, uid: u32) -> bool {
        self.recent.iter().any(|&(a, b)| (a..=b).contains(&uid))
    }

    /// How many messages of the view are `\Recent` for this session.
    pub fn recent_count(&self) -> u32 {
        let below = |u: u32| self.uids.partition_point(|&x| x < u);
        self.recent.iter().map(|&(a, b)| below(b.saturating_add(1)) - below(a)).sum::<usize>() as u32
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
        Arc::make_mut(&mut self.uids).remove(i);
        self.told.remove(&uid);
        self.pending_expunge.remove(&uid);
        Some(i as u32 + 1)
    }

    /// Records that the client was told a message's flags as of `modseq`
    /// (after STORE, or FETCH setting `\Seen`).
    pub fn set_flags(&mut self, uid: u32, modseq: u64) {
        if modseq > self.modseq && self.uids.binary_search(&uid).is_ok() {
            let m = self.told.entry(uid).or_insert(modseq);
            *m = (*m).max(modseq);
        }
    }
}

impl Session {
    /// Syncs the selected view regardless of what is queued on the feed.
    pub async fn sync_selected_now(&mut self, allow_expunge: bool) -> Result<()> {
        let feed = self.feed.take();
        let r = self.sync_selected(allow_expunge).await;
        self.feed = feed;
        r
    }

    /// Brings the client's view up to date with the store (DESIGN.md §3).
    /// EXPUNGE responses are sent only when `allow_expunge`; otherwise those
    /// messages keep their sequence numbers until a later command.
    pub async fn sync_selected(&mut self, allow_expunge: bool) -> Result<()> {
        let claims_recent = !self.enabled.imap4rev2;
        let State::Selected { account, view, .. } = &mut self.state else {
            return Ok(());
        };
        // Drain the feed: its only job is to say "something changed"; the store
        // is the source of truth.
        let mut changed = false;
        if self.notify.is_some() {
            // The feed's events are NOTIFY's to tell (session/notify.rs);
            // here the store is simply asked.
            changed = true;
        } else if let Some(feed) = &mut self.feed {
            loop {
                match feed.try_recv() {
                    Ok(store::Change::Mailbox { mailbox, modseq }) => {
                        changed |= mailbox == view.mailbox.id && modseq > view.modseq;
                    }
                    Ok(store::Change::MailboxList | store::Change::Metadata { .. }) => {}
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
        for uid in changes.expunged {
            if view.seq_of(uid).is_some() {
                view.pending_expunge.insert(uid);
            }
        }
        // RFC 5267 §4.3.4, Appendix A.3: REMOVEFROM at once, before the EXPUNGE.
        let pending: Vec<u32> = view.pending_expunge.iter().copied().collect();
        let mut out = context::forget(view, &pending);
        if allow_expunge {
            let gone: Vec<u32> = std::mem::take(&mut view.pending_expunge).into_iter().collect();
            out.extend(expunge_responses(view, &gone, self.enabled.qresync));
        }
        let changed: Vec<u32> =
            if view.contexts.is_empty() { Vec::new() } else { changes.changed.iter().map(|s| s.uid).collect() };
        let before = view.exists();
        let mut flag_updates: Vec<(u32, Flags, u64)> = Vec::new();
        for s in changes.changed {
            match view.uids.binary_search(&s.uid) {
                Ok(_) => {
                    // Already told by this session at (or after) this MODSEQ?
                    if view.told.get(&s.uid).is_none_or(|&m| s.modseq > m) {
                        flag_updates.push((s.uid, s.flags, s.modseq));
                    }
                }
                Err(i) if i == view.uids.len() => Arc::make_mut(&mut view.uids).push(s.uid),
                // Older than our newest but unknown: expunged before we saw it.
                Err(_) => {}
            }
        }
        view.modseq = view.modseq.max(changes.highest_modseq);
        let modseq = view.modseq;
        view.told.retain(|_, m| *m > modseq);
        if view.exists() != before {
            out.push(Data::Exists(view.exists()));
            // RFC 3501 §2.3.2, §7.3.2: the first session to learn of new
            // messages has them as \Recent, and is told how many it has.
            // A read-only session sees them recent without taking them.
            if claims_recent {
                if let Some(r) = account.recent(view.mailbox.id, !view.read_only).await? {
                    let from = view.recent.last().map_or(*r.start(), |&(_, b)| b.max(*r.start() - 1) + 1);
                    if from <= *r.end() {
                        view.recent.push((from, *r.end()));
                    }
                }
                out.push(Data::Recent(view.recent_count()));
            }
        }
        for (uid, flags, modseq) in flag_updates {
            if let Some(seq) = view.seq_of(uid) {
                let mut items = vec![FetchValue::Uid(uid), FetchValue::Flags(flags_to_wire(&flags))];
                if self.enabled.condstore {
                    items.push(FetchValue::ModSeq(modseq));
                }
                out.push(Data::Fetch { seq, items });
            }
        }
        for d in out {
            self.data(d);
        }
        // RFC 5267 §4.3.3: ADDTO after the EXISTS that makes its numbers valid.
        self.update_contexts(changed).await
    }
}

/// Removes expunged messages from the view and returns what tells the client:
/// one `* n EXPUNGE` per message, each number valid when it is read (RFC 9051
/// §7.5.1), or a single `* VANISHED uids` once QRESYNC is enabled (RFC 7162
/// §3.2.10).
pub fn expunge_responses(view: &mut View, uids: &[u32], qresync: bool) -> Vec<Data> {
    // RFC 5267 §4.3.4: REMOVEFROM before the expunge notification.
    let mut out = context::forget(view, uids);
    let mut gone = Vec::new();
    for &uid in uids {
        if let Some(seq) = view.remove(uid) {
            out.push(Data::Expunge(seq));
            gone.push(uid);
        }
    }
    if !qresync {
        return out;
    }
    out.retain(|d| !matches!(d, Data::Expunge(_)));
    if let Some(uids) = imap_proto::SequenceSet::from_numbers(gone) {
        out.push(Data::Vanished { earlier: false, uids });
    }
    out
}

/// The UIDs in `set` (with `*` = `largest`) expunged after `since`, for
/// `VANISHED (EARLIER)` (RFC 7162 §3.2.5.2, §3.2.6). When tombstones newer than
/// `since` may have been pruned, every UID below UIDNEXT in `set` that does not
/// exist any more is reported instead: a superset, which the RFC allows, and
/// never an incomplete answer.
pub async fn vanished_since(
    account: &store::Account,
    mailbox: store::MailboxId,
    since: u64,
    set: &imap_proto::SequenceSet,
    largest: u32,
) -> Result<Vec<(u32, u32)>> {
    let changes = account.changes_since(mailbox, since).await?;
    if since >= changes.tombstone_floor {
        let uids: Vec<u32> = changes.expunged.into_iter().filter(|&u| set.contains(u, largest)).collect();
        return Ok(to_ranges(&uids));
    }
    let snap = account.snapshot(mailbox).await?;
    Ok(missing_ranges(&snap.uids, snap.uid_next.saturating_sub(1), set, largest))
}

/// Runs of consecutive numbers in a sorted list.
fn to_ranges(sorted: &[u32]) -> Vec<(u32, u32)> {
    let mut out: Vec<(u32, u32)> = Vec::new();
    for &n in sorted {
        match out.last_mut() {
            Some((_, hi)) if *hi + 1 == n => *hi = n,
            _ => out.push((n, n)),
        }
    }
    out
}

/// The parts of `1..=upper` that are neither in `existing` (sorted) nor
/// outside `set`, as ranges; linear in the number of gaps and set ranges.
fn missing_ranges(existing: &[u32], upper: u32, set: &imap_proto::SequenceSet, largest: u32) -> Vec<(u32, u32)> {
    let imap_proto::SequenceSet::Ranges(ranges) = set else { return Vec::new() };
    let resolve = |n: imap_proto::SeqNum| match n {
        imap_proto::SeqNum::Value(v) => v,
        imap_proto::SeqNum::Largest => largest,
    };
    let wanted: Vec<(u32, u32)> = ranges
        .iter()
        .map(|&(a, b)| {
            let (a, b) = (resolve(a), resolve(b));
            (a.min(b), a.max(b))
        })
        .collect();
    let mut gaps = Vec::new();
    let mut next = 1u32;
    for &e in existing.iter().chain(std::iter::once(&upper.saturating_add(1))) {
        if e > next {
            gaps.push((next, (e - 1).min(upper)));
        }
        next = next.max(e.saturating_add(1));
        if next > upper {
            break;
        }
    }
    let mut out = Vec::new();
    for (ga, gb) in gaps {
        for &(wa, wb) in &wanted {
            let (a, b) = (ga.max(wa), gb.min(wb));
            if a <= b {
                out.push((a, b));
            }
        }
    }
    out.sort_unstable();
    let mut merged: Vec<(u32, u32)> = Vec::new();
    for (a, b) in out {
        match merged.last_mut() {
            Some((_, hi)) if a <= hi.saturating_add(1) => *hi = (*hi).max(b),
            _ => merged.push((a, b)),
        }
    }
    merged
}

/// Ranges → a sequence set, `None` when empty.
pub fn ranges_to_set(ranges: Vec<(u32, u32)>) -> Option<imap_proto::SequenceSet> {
    if ranges.is_empty() {
        return None;
    }
    Some(imap_proto::SequenceSet::Ranges(
        ranges.into_iter().map(|(a, b)| (imap_proto::SeqNum::Value(a), imap_proto::SeqNum::Value(b))).collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use imap_proto::{SeqNum, SequenceSet};

    #[test]
    fn missing_ranges_are_the_complement_within_the_set() {
        let all = SequenceSet::Ranges(vec![(SeqNum::Value(1), SeqNum::Largest)]);
        assert_eq!(missing_ranges(&[2, 3, 7], 9, &all, 7), vec![(1, 1), (4, 6)]);
        assert_eq!(
            missing_ranges(&[2, 3, 7], 9, &SequenceSet::Ranges(vec![(SeqNum::Value(1), SeqNum::Value(20))]), 7),
            vec![(1, 1), (4, 6), (8, 9)]
        );
        let some =
            SequenceSet::Ranges(vec![(SeqNum::Value(5), SeqNum::Value(5)), (SeqNum::Value(8), SeqNum::Value(100))]);
        assert_eq!(missing_ranges(&[2, 3, 7], 9, &some, 7), vec![(5, 5), (8, 9)]);
        assert_eq!(missing_ranges(&[], 0, &all, 0), vec![]);
        assert_eq!(missing_ranges(&[1, 2, 3], 3, &all, 3), vec![]);
        assert_eq!(to_ranges(&[1, 2, 3, 5, 7, 8]), vec![(1, 3), (5, 5), (7, 8)]);
    }
}
