//! RFC 5267 §4 search contexts: `SEARCH RETURN (UPDATE …)` and `SORT RETURN
//! (UPDATE …)` keep their result for the session, and as the mailbox changes
//! the client is told `* ESEARCH (TAG "t") [UID] ADDTO (…)` / `REMOVEFROM (…)`.
//!
//! Each context holds the search program and its current result: a UID set
//! for SEARCH (mailbox order, positions are 0, §4.3.3), the sorted items for
//! SORT (positions matter). Membership is re-evaluated per message when the
//! message is new or changed (Appendix B): sort keys never change, so a
//! message only enters or leaves a context. Because the state, not the
//! event, is compared, evaluating a message twice never sends anything twice.
//!
//! When updates are sent (see [`crate::imap::selected`]):
//! - REMOVEFROM for expunged messages at once, before the EXPUNGE, even when
//!   the EXPUNGE itself must wait (§4.3.4, Appendix A.3); sequence numbers
//!   stay valid because the message keeps its number until its EXPUNGE.
//! - ADDTO/REMOVEFROM for new and changed messages after the EXISTS and
//!   FETCH responses of the same sync (§4.3.3).
//! - during IDLE, and between commands while a context exists (§4.3.2: these
//!   responses may be sent at any time; EXPUNGE still waits for a command).
//!
//! Message sequence numbers in the program are evaluated once, when the
//! command is received (§4.3, errata to RFC 3501): they are replaced by the
//! UIDs they meant then. OLDER/YOUNGER are evaluated when a message changes,
//! not as time passes.
//!
//! Contexts live in the selected [`View`], so they end with it (CLOSE,
//! UNSELECT, SELECT/EXAMINE, UNAUTHENTICATE). A session keeps at most
//! [`MAX_UPDATE_CONTEXTS`]; beyond that the server answers `NO [NOUPDATE]`
//! (§4.3.1) and still answers the other return options.

use std::collections::{BTreeSet, HashSet};

use imap_proto::{
    Code, ContextUpdate, Data, Response, SearchKey, SearchReturn, SeqNum, SequenceSet, SortCriterion, StatusKind, Tag,
};
use store::MessageRecord;

use super::error::{ImapError, Result};
use super::search::{matches, needs_body, SearchContext};
use super::selected::View;
use super::session::{Session, State};
use super::sort::{compare, sort_item, SortItem};

/// RFC 5267 §4.3.1: update contexts one session may hold at once (the RFC
/// asks for at least one). Each holds its search program and result list.
pub const MAX_UPDATE_CONTEXTS: usize = 5;

/// Messages read per store call when re-evaluating.
const CHUNK: usize = 512;

/// The update contexts of the selected mailbox.
#[derive(Default)]
pub struct Contexts {
    list: Vec<Context>,
    /// The largest UID when the contexts were last evaluated: `*` in a UID
    /// set means something else once it changes.
    largest: u32,
}

struct Context {
    /// The search correlator of the command that asked for UPDATE.
    tag: Tag,
    /// Whether updates carry UIDs (UID SEARCH/SORT) or sequence numbers.
    uid: bool,
    /// The search program, with `$` and sequence numbers resolved to UIDs.
    program: SearchKey,
    result: Order,
}

/// The current result, in the requested order (§4.1).
enum Order {
    /// SEARCH: mailbox order.
    Mailbox(BTreeSet<u32>),
    /// SORT: sort order; `members` are the UIDs of `items`.
    Sorted { criteria: Vec<SortCriterion>, items: Vec<SortItem>, members: HashSet<u32> },
}

impl Contexts {
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    fn in_use(&self, tag: &str) -> bool {
        self.list.iter().any(|c| c.tag.as_str() == tag)
    }

    fn needs_body(&self) -> bool {
        self.list.iter().any(|c| needs_body(&c.program))
    }

    /// Whether some program has `*` in a UID set.
    fn watches_largest(&self) -> bool {
        self.list.iter().any(|c| mentions_largest(&c.program))
    }
}

/// What a searching command asked of contexts, taken out of its return
/// options (UPDATE and CONTEXT do not interact with the others, §4.1).
pub struct UpdateRequest {
    tag: Tag,
    uid: bool,
    program: SearchKey,
}

impl Session {
    /// RFC 5267 §4.3: removes UPDATE and CONTEXT (a hint, §4.2) from `ret`.
    /// With UPDATE, a tag already naming an update context is refused with BAD
    /// before the command runs ("Tag reuse"). `program` is the search program
    /// with `$` substituted.
    pub(crate) fn take_update(
        &mut self,
        tag: &Tag,
        uid: bool,
        ret: &mut Vec<SearchReturn>,
        program: &SearchKey,
    ) -> Result<Option<UpdateRequest>> {
        let update = ret.contains(&SearchReturn::Update);
        ret.retain(|o| !matches!(o, SearchReturn::Update | SearchReturn::Context));
        if !update {
            return Ok(None);
        }
        let view = self.view()?;
        if view.contexts.in_use(tag.as_str()) {
            return Err(ImapError::bad(format!("Tag reuse: {tag} already names an update context (RFC 5267 §4.3)")));
        }
        Ok(Some(UpdateRequest { tag: tag.clone(), uid, program: pin_sequence_numbers(program.clone(), view) }))
    }

    /// Keeps a SEARCH context (`uids` is its result), or, over the limit,
    /// sends `* NO [NOUPDATE "tag"]` (§4.3.1). Returns whether it is kept.
    pub(crate) fn keep_search_context(&mut self, req: UpdateRequest, uids: impl Iterator<Item = u32>) -> Result<bool> {
        self.keep_context(req, Order::Mailbox(uids.collect()))
    }

    /// Keeps a SORT context (`items` in sort order), as [`Self::keep_search_context`].
    pub(crate) fn keep_sort_context(
        &mut self,
        req: UpdateRequest,
        criteria: Vec<SortCriterion>,
        items: Vec<SortItem>,
    ) -> Result<bool> {
        let members = items.iter().map(|i| i.uid).collect();
        self.keep_context(req, Order::Sorted { criteria, items, members })
    }

    fn keep_context(&mut self, req: UpdateRequest, result: Order) -> Result<bool> {
        let view = self.view()?;
        if view.contexts.list.len() >= MAX_UPDATE_CONTEXTS {
            let text = format!("Too many contexts: at most {MAX_UPDATE_CONTEXTS} per session, CANCELUPDATE one");
            let code = Some(Code::NoUpdate(req.tag.as_str().to_string()));
            self.write(&Response::Status { tag: None, kind: StatusKind::No, code, text });
            return Ok(false);
        }
        if view.contexts.list.is_empty() {
            view.contexts.largest = view.largest_uid();
        }
        view.contexts.list.push(Context { tag: req.tag, uid: req.uid, program: req.program, result });
        Ok(true)
    }

    /// RFC 5267 §4.3.5: ends the update contexts named by `tags`; returns
    /// the tags that named none.
    pub(crate) fn cancel_contexts(&mut self, tags: &[String]) -> Result<Vec<String>> {
        let contexts = &mut self.view()?.contexts;
        let unknown = tags.iter().filter(|t| !contexts.in_use(t)).cloned().collect();
        contexts.list.retain(|c| !tags.iter().any(|t| t == c.tag.as_str()));
        Ok(unknown)
    }

    /// Whether the selected mailbox has update contexts.
    pub(crate) fn has_update_contexts(&self) -> bool {
        matches!(&self.state, State::Selected { view, .. } if !view.contexts.is_empty())
    }

    /// The sync point for new and changed messages (`changed`: UIDs, after
    /// their EXISTS and FETCH were written): re-evaluates them against every
    /// context and sends ADDTO/REMOVEFROM (§4.3.3–4.3.4).
    pub(crate) async fn update_contexts(&mut self, changed: Vec<u32>) -> Result<()> {
        let State::Selected { account, view, .. } = &self.state else { return Ok(()) };
        if view.contexts.is_empty() {
            return Ok(());
        }
        let account = account.clone();
        let mailbox = view.mailbox.id;
        let largest = view.largest_uid();
        let candidates: Vec<u32> = if view.contexts.watches_largest() && largest != view.contexts.largest {
            view.uids.to_vec()
        } else {
            changed.into_iter().filter(|u| view.seq_of(*u).is_some()).collect()
        };
        let with_body = view.contexts.needs_body();
        let now = chrono::Utc::now().timestamp();
        for chunk in candidates.chunks(CHUNK) {
            let records = account.records(mailbox, chunk.to_vec()).await?;
            let mut evaluated = Vec::with_capacity(records.len());
            for rec in records {
                let raw = if with_body { Some(self.read_message(&rec).await?) } else { None };
                evaluated.push((rec, raw));
            }
            let view = self.view()?;
            let out = reevaluate(view, &evaluated, now);
            for d in out {
                self.data(d);
            }
        }
        self.view()?.contexts.largest = largest;
        Ok(())
    }
}

/// RFC 5267 §4.3.4: REMOVEFROM for those of `uids` in a context, to be sent
/// before the messages leave the view (their sequence numbers still valid).
pub fn forget(view: &mut View, uids: &[u32]) -> Vec<Data> {
    if view.contexts.is_empty() || uids.is_empty() {
        return Vec::new();
    }
    let gone: HashSet<u32> = uids.iter().copied().collect();
    let mut contexts = std::mem::take(&mut view.contexts);
    let mut out = Vec::new();
    for c in &mut contexts.list {
        let mut updates = Vec::new();
        c.remove(view, &gone, &mut updates);
        if !updates.is_empty() {
            out.push(Data::ContextUpdate { tag: c.tag.clone(), uid: c.uid, updates });
        }
    }
    view.contexts = contexts;
    out
}

/// Re-evaluates messages in the view (with their bytes when a program needs
/// them) against every context; REMOVEFROM for those that stopped matching,
/// then ADDTO for those that started, per context.
fn reevaluate(view: &mut View, records: &[(MessageRecord, Option<Vec<u8>>)], now: i64) -> Vec<Data> {
    let mut contexts = std::mem::take(&mut view.contexts);
    let mut out = Vec::new();
    for c in &mut contexts.list {
        let mut left = HashSet::new();
        let mut entered = Vec::new();
        for (rec, raw) in records {
            let Some(seq) = view.seq_of(rec.uid) else { continue };
            let ctx = SearchContext {
                seq,
                largest_seq: view.exists(),
                largest_uid: view.largest_uid(),
                record: rec,
                raw: raw.as_deref(),
                now,
                recent: view.is_recent(rec.uid),
            };
            match (c.contains(rec.uid), matches(&c.program, &ctx)) {
                (true, false) => {
                    left.insert(rec.uid);
                }
                (false, true) => entered.push((seq, rec)),
                _ => {}
            }
        }
        let mut updates = Vec::new();
        c.remove(view, &left, &mut updates);
        c.add(view, &entered, &mut updates);
        if !updates.is_empty() {
            out.push(Data::ContextUpdate { tag: c.tag.clone(), uid: c.uid, updates });
        }
    }
    view.contexts = contexts;
    out
}

impl Context {
    fn contains(&self, uid: u32) -> bool {
        match &self.result {
            Order::Mailbox(set) => set.contains(&uid),
            Order::Sorted { members, .. } => members.contains(&uid),
        }
    }

    /// The number the client knows a message by in this context.
    fn number(&self, view: &View, uid: u32) -> u32 {
        if self.uid {
            uid
        } else {
            view.seq_of(uid).unwrap_or(0)
        }
    }

    /// Removes `gone` from the result; REMOVEFROM into `updates`.
    fn remove(&mut self, view: &View, gone: &HashSet<u32>, updates: &mut Vec<ContextUpdate>) {
        if gone.is_empty() {
            return;
        }
        let uid = self.uid;
        let number = |u: u32| if uid { u } else { view.seq_of(u).unwrap_or(0) };
        match &mut self.result {
            Order::Mailbox(set) => {
                let removed: Vec<u32> = gone.iter().copied().filter(|u| set.remove(u)).map(number).collect();
                if let Some(s) = SequenceSet::from_numbers(removed) {
                    updates.push(ContextUpdate::RemoveFrom(vec![(0, s)]));
                }
            }
            Order::Sorted { items, members, .. } => {
                if !gone.iter().any(|u| members.contains(u)) {
                    return;
                }
                // Runs of adjacent removed items; each run's position is where
                // its first item stands once the earlier runs are gone.
                let mut runs: Vec<(u32, Vec<u32>)> = Vec::new();
                let mut removed = 0u32;
                let mut prev_removed = false;
                for (i, item) in items.iter().enumerate() {
                    let hit = gone.contains(&item.uid);
                    if hit {
                        match runs.last_mut() {
                            Some((_, run)) if prev_removed => run.push(number(item.uid)),
                            _ => runs.push((i as u32 + 1 - removed, vec![number(item.uid)])),
                        }
                        removed += 1;
                    }
                    prev_removed = hit;
                }
                items.retain(|i| !gone.contains(&i.uid));
                members.retain(|u| !gone.contains(u));
                let pairs: Vec<(u32, SequenceSet)> = runs
                    .into_iter()
                    .filter_map(|(pos, nums)| SequenceSet::from_ordered(&nums).map(|s| (pos, s)))
                    .collect();
                if !pairs.is_empty() {
                    updates.push(ContextUpdate::RemoveFrom(pairs));
                }
            }
        }
    }

    /// Adds `entered` (`(seq, record)`) to the result; ADDTO into `updates`.
    fn add(&mut self, view: &View, entered: &[(u32, &MessageRecord)], updates: &mut Vec<ContextUpdate>) {
        if entered.is_empty() {
            return;
        }
        let numbers: Vec<u32> = entered.iter().map(|(_, r)| self.number(view, r.uid)).collect();
        match &mut self.result {
            Order::Mailbox(set) => {
                set.extend(entered.iter().map(|(_, r)| r.uid));
                if let Some(s) = SequenceSet::from_numbers(numbers) {
                    updates.push(ContextUpdate::AddTo(vec![(0, s)]));
                }
            }
            Order::Sorted { criteria, items, members } => {
                members.extend(entered.iter().map(|(_, r)| r.uid));
                let mut new: Vec<SortItem> = entered.iter().map(|(seq, r)| sort_item(*seq, r, criteria)).collect();
                new.sort_by(|a, b| compare(a, b, criteria));
                // Merge; a new item's position is its place in the merged list,
                // and in increasing order each position is valid when read.
                let old = std::mem::take(items);
                let mut merged = Vec::with_capacity(old.len() + new.len());
                let mut runs: Vec<(u32, Vec<u32>)> = Vec::new();
                let mut old = old.into_iter().peekable();
                let mut prev_new = false;
                for n in new {
                    while let Some(o) = old.next_if(|o| compare(o, &n, criteria).is_lt()) {
                        merged.push(o);
                        prev_new = false;
                    }
                    let num = if self.uid { n.uid } else { view.seq_of(n.uid).unwrap_or(0) };
                    match runs.last_mut() {
                        Some((_, run)) if prev_new => run.push(num),
                        _ => runs.push((merged.len() as u32 + 1, vec![num])),
                    }
                    merged.push(n);
                    prev_new = true;
                }
                merged.extend(old);
                *items = merged;
                let pairs: Vec<(u32, SequenceSet)> = runs
                    .into_iter()
                    .filter_map(|(pos, nums)| SequenceSet::from_ordered(&nums).map(|s| (pos, s)))
                    .collect();
                if !pairs.is_empty() {
                    updates.push(ContextUpdate::AddTo(pairs));
                }
            }
        }
    }
}

/// Replaces message sequence numbers by the UIDs they meant when the command
/// was received (§4.3: no notifications when those messages change).
fn pin_sequence_numbers(key: SearchKey, view: &View) -> SearchKey {
    match key {
        SearchKey::SequenceSet(set) => {
            let largest = view.exists();
            let uids = view
                .uids
                .iter()
                .enumerate()
                .filter(|&(i, _)| set.contains(i as u32 + 1, largest))
                .map(|(_, &u)| u)
                .collect();
            SearchKey::Uid(SequenceSet::from_numbers(uids).unwrap_or(SequenceSet::Ranges(Vec::new())))
        }
        SearchKey::Not(k) => SearchKey::Not(Box::new(pin_sequence_numbers(*k, view))),
        SearchKey::Or(a, b) => {
            SearchKey::Or(Box::new(pin_sequence_numbers(*a, view)), Box::new(pin_sequence_numbers(*b, view)))
        }
        SearchKey::And(ks) => SearchKey::And(ks.into_iter().map(|k| pin_sequence_numbers(k, view)).collect()),
        other => other,
    }
}

/// Whether a program has `*` in a UID set (its meaning moves with new mail).
fn mentions_largest(key: &SearchKey) -> bool {
    match key {
        SearchKey::Uid(SequenceSet::Ranges(r)) => r.iter().any(|&(a, b)| a == SeqNum::Largest || b == SeqNum::Largest),
        SearchKey::Not(k) => mentions_largest(k),
        SearchKey::Or(a, b) => mentions_largest(a) || mentions_largest(b),
        SearchKey::And(ks) => ks.iter().any(mentions_largest),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use store::{MailboxId, MailboxInfo};

    fn view(uids: &[u32]) -> View {
        let mailbox = MailboxInfo {
            id: MailboxId(1),
            name: "INBOX".into(),
            uid_validity: 1,
            uid_next: 100,
            highest_modseq: 1,
            special_use: None,
            object_id: String::new(),
        };
        View::new(mailbox, false, 1, std::sync::Arc::new(uids.to_vec()))
    }

    fn set(ranges: &[(u32, u32)]) -> SequenceSet {
        SequenceSet::Ranges(ranges.iter().map(|&(a, b)| (SeqNum::Value(a), SeqNum::Value(b))).collect())
    }

    #[test]
    fn sequence_numbers_become_the_uids_they_meant() {
        let v = view(&[3, 7, 9, 20]);
        let star = SequenceSet::Ranges(vec![(SeqNum::Value(3), SeqNum::Largest)]);
        let key = SearchKey::And(vec![
            SearchKey::Seen,
            SearchKey::Not(Box::new(SearchKey::SequenceSet(set(&[(1, 1)])))),
            SearchKey::SequenceSet(star),
        ]);
        let pinned = pin_sequence_numbers(key, &v);
        assert_eq!(
            pinned,
            SearchKey::And(vec![
                SearchKey::Seen,
                SearchKey::Not(Box::new(SearchKey::Uid(set(&[(3, 3)])))),
                SearchKey::Uid(set(&[(9, 9), (20, 20)])),
            ])
        );
        // Nothing named: an empty set, which matches nothing.
        let none = pin_sequence_numbers(SearchKey::SequenceSet(set(&[(50, 60)])), &v);
        assert_eq!(none, SearchKey::Uid(SequenceSet::Ranges(Vec::new())));
        assert!(!mentions_largest(&pinned));
        let uid_star = SearchKey::Or(
            Box::new(SearchKey::Flagged),
            Box::new(SearchKey::Uid(SequenceSet::Ranges(vec![(SeqNum::Largest, SeqNum::Value(5))]))),
        );
        assert!(mentions_largest(&uid_star));
    }
}
