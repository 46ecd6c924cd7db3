//! SEARCH and UID SEARCH, with ESEARCH return options and SEARCHRES.

use imap_proto::{Code, Data, SearchKey, SearchReturn, SequenceSet, Tag};

use super::{Done, Session};
use crate::imap::error::{ImapError, Result};
use crate::imap::search::{index_terms, matches, needs_body, SearchContext};
use crate::imap::selected::View;
use store::MessageRecord;

const CHUNK: usize = 512;

impl Session {
    /// RFC 9051 §6.4.4 SEARCH: `search = "SEARCH" [search-return-opts] SP search-program`;
    /// RFC 4731 ESEARCH (MIN, MAX, ALL, COUNT); RFC 5182 SEARCHRES (SAVE, `$`).
    /// IMAP4rev2 clients always get ESEARCH; IMAP4rev1 clients get the
    /// `* SEARCH` response unless they asked for RETURN options.
    /// RFC 5267 §4.3 UPDATE keeps the result as a context
    /// ([`crate::imap::context`]); §4.2 CONTEXT is a hint and ignored.
    pub(super) async fn cmd_search(
        &mut self,
        tag: &Tag,
        uid: bool,
        charset: Option<String>,
        ret: Option<Vec<SearchReturn>>,
        criteria: SearchKey,
    ) -> Result<Done> {
        if let Some(cs) = &charset {
            check_charset(cs)?;
        }
        let criteria = substitute_saved(criteria, self.view()?);
        let mut ret = match ret {
            Some(r) if r.is_empty() => Some(vec![SearchReturn::All]),
            Some(r) => Some(r),
            None if self.enabled.imap4rev2 => Some(vec![SearchReturn::All]),
            None => None,
        };
        // After the empty list became ALL: `RETURN (UPDATE)` alone returns no data.
        let update = match ret.as_mut() {
            Some(r) => self.take_update(tag, uid, r, &criteria)?,
            None => None,
        };
        let hits = self.matching(&criteria, |seq, rec| (seq, rec.uid, rec.modseq)).await?;
        // RFC 7162 §3.1.6: with a MODSEQ criterion, the highest MODSEQ of the matches.
        let modseq = if mentions_modseq(&criteria) { hits.iter().map(|h| h.2).max() } else { None };
        let modseqs: Vec<u64> = hits.iter().map(|h| h.2).collect();
        let hits: Vec<(u32, u32)> = hits.into_iter().map(|(s, u, _)| (s, u)).collect();
        let Some(ret) = ret else {
            let numbers = hits.iter().map(|&(s, u)| if uid { u } else { s }).collect();
            self.data(Data::Search { numbers, modseq });
            return Ok(Done::ok("SEARCH completed"));
        };
        // RFC 4731 §3.2: a lone MIN or MAX reports the MODSEQ of its message;
        // MIN and MAX without ALL/COUNT the higher of those two.
        let modseq = modseq.and(esearch_modseq(&ret, &modseqs)).or(modseq);
        let saved = self.esearch(tag, uid, &ret, &hits, modseq)?;
        if let Some(req) = update {
            return Ok(Done::ok(match self.keep_search_context(req, hits.iter().map(|&(_, u)| u))? {
                true => "SEARCH completed, will notify",
                false => "SEARCH completed, will not notify",
            }));
        }
        if saved {
            return Ok(Done::ok("SEARCH completed, result saved"));
        }
        Ok(Done::ok("SEARCH completed"))
    }

    /// Evaluates `criteria` (with `$` already substituted) over the selected
    /// mailbox and maps each match with `f(seq, record)`, in mailbox order.
    /// Shared by SEARCH, SORT and THREAD.
    pub(super) async fn matching<T>(
        &mut self,
        criteria: &SearchKey,
        mut f: impl FnMut(u32, &MessageRecord) -> T,
    ) -> Result<Vec<T>> {
        let account = self.account()?;
        let fts = self.shared.config.search.fts;
        let view = self.view()?;
        let mailbox = view.mailbox.id;
        let mut uids = view.uids.to_vec();
        // Issue #7: the full-text index narrows the messages to look at; each
        // candidate is still checked by `matches`, so the result is the same.
        let terms = if fts { index_terms(criteria) } else { Vec::new() };
        if !terms.is_empty() {
            if let Some(candidates) = account.text_candidates(mailbox, terms).await? {
                uids.retain(|u| candidates.binary_search(u).is_ok());
            }
        }
        let view = self.view()?;
        let largest_seq = view.exists();
        let largest_uid = view.largest_uid();
        let with_body = needs_body(criteria);
        let now = chrono::Utc::now().timestamp();
        let mut hits = Vec::new();
        // The keys, not ENVELOPE/BODYSTRUCTURE: SEARCH, SORT and THREAD read
        // only what they compare (a third of the bytes of a full record).
        let parts = store::FetchParts { ids: true, keys: true, ..Default::default() };
        for chunk in uids.chunks(CHUNK) {
            let records = account.fetch_records(mailbox, chunk.to_vec(), parts).await?;
            for rec in &records {
                let raw = if with_body { Some(self.read_message(rec).await?) } else { None };
                let view = self.view()?;
                let Some(seq) = view.seq_of(rec.uid) else { continue };
                let recent = view.is_recent(rec.uid);
                let ctx =
                    SearchContext { seq, largest_seq, largest_uid, record: rec, raw: raw.as_deref(), now, recent };
                if matches(criteria, &ctx) {
                    hits.push(f(seq, rec));
                }
            }
        }
        Ok(hits)
    }

    /// Answers with an ESEARCH response for `hits` (`(seq, uid)` in result
    /// order: mailbox order for SEARCH, sort order for SORT) and the return
    /// options `ret` (RFC 4731, RFC 5267 §3.1 ESORT, RFC 9394 PARTIAL), and
    /// saves the result for SAVE (RFC 5182; RFC 9394 §3.2 with PARTIAL).
    /// Returns true when SAVE was the only option (no response is sent).
    pub(super) fn esearch(
        &mut self,
        tag: &Tag,
        uid: bool,
        ret: &[SearchReturn],
        hits: &[(u32, u32)],
        modseq: Option<u64>,
    ) -> Result<bool> {
        let has = |o: SearchReturn| ret.contains(&o);
        let partial = ret.iter().find_map(|o| match o {
            SearchReturn::Partial(r) => Some(*r),
            _ => None,
        });
        let numbers: Vec<u32> = hits.iter().map(|&(s, u)| if uid { u } else { s }).collect();
        let slice = partial.map(|r| r.slice(hits.len())).unwrap_or(0..0);
        if has(SearchReturn::Save) {
            // RFC 5182 §2.1 and RFC 9394 §3.2: with MIN/MAX/PARTIAL and
            // neither ALL nor COUNT, only what those return is saved.
            let mut saved: Vec<u32> = hits.iter().map(|&(_, u)| u).collect();
            if (has(SearchReturn::Min) || has(SearchReturn::Max) || partial.is_some())
                && !has(SearchReturn::All)
                && !has(SearchReturn::Count)
            {
                let mut keep: Vec<u32> = saved[slice.clone()].to_vec();
                if has(SearchReturn::Min) {
                    keep.extend(saved.first().copied());
                }
                if has(SearchReturn::Max) {
                    keep.extend(saved.last().copied());
                }
                saved = keep;
            }
            saved.sort_unstable();
            saved.dedup();
            self.view()?.saved = saved;
            if ret.iter().all(|&o| o == SearchReturn::Save) {
                return Ok(true);
            }
        }
        self.data(Data::ESearch {
            tag: Some(tag.clone()),
            uid,
            min: if has(SearchReturn::Min) { numbers.first().copied() } else { None },
            max: if has(SearchReturn::Max) { numbers.last().copied() } else { None },
            all: if has(SearchReturn::All) { SequenceSet::from_ordered(&numbers) } else { None },
            count: if has(SearchReturn::Count) { Some(numbers.len() as u32) } else { None },
            modseq,
            partial: partial.map(|r| (r, SequenceSet::from_ordered(&numbers[slice.clone()]))),
        });
        Ok(false)
    }
}

/// SEARCH/SORT/THREAD charsets: UTF-8 and US-ASCII, else `NO [BADCHARSET]`.
pub(super) fn check_charset(cs: &str) -> Result<()> {
    if cs.eq_ignore_ascii_case("UTF-8") || cs.eq_ignore_ascii_case("US-ASCII") {
        return Ok(());
    }
    Err(ImapError::no(Code::BadCharset(vec!["UTF-8".into(), "US-ASCII".into()]), format!("unsupported charset {cs}")))
}

/// Replaces `$` (RFC 5182) with the saved result: as UIDs in `UID $`, as
/// sequence numbers where a bare sequence set stands.
pub(super) fn substitute_saved(key: SearchKey, view: &View) -> SearchKey {
    let empty = || SequenceSet::Ranges(Vec::new());
    match key {
        SearchKey::Uid(SequenceSet::Saved) => {
            SearchKey::Uid(SequenceSet::from_numbers(view.saved.clone()).unwrap_or_else(empty))
        }
        SearchKey::SequenceSet(SequenceSet::Saved) => {
            let seqs = view.saved.iter().filter_map(|u| view.seq_of(*u)).collect();
            SearchKey::SequenceSet(SequenceSet::from_numbers(seqs).unwrap_or_else(empty))
        }
        SearchKey::Not(k) => SearchKey::Not(Box::new(substitute_saved(*k, view))),
        SearchKey::Or(a, b) => {
            SearchKey::Or(Box::new(substitute_saved(*a, view)), Box::new(substitute_saved(*b, view)))
        }
        SearchKey::And(ks) => SearchKey::And(ks.into_iter().map(|k| substitute_saved(k, view)).collect()),
        other => other,
    }
}

/// The ESEARCH MODSEQ when only MIN and/or MAX are returned (RFC 4731 §3.2):
/// that of the one message returned, or the higher of the two; `None` when the
/// highest of all matches applies.
fn esearch_modseq(ret: &[SearchReturn], modseqs: &[u64]) -> Option<u64> {
    let (min, max) = (ret.contains(&SearchReturn::Min), ret.contains(&SearchReturn::Max));
    let others = ret.iter().any(|o| !matches!(o, SearchReturn::Min | SearchReturn::Max | SearchReturn::Save));
    if others || !(min || max) {
        return None;
    }
    let first = modseqs.first().copied().filter(|_| min);
    let last = modseqs.last().copied().filter(|_| max);
    first.max(last)
}

/// Whether a search program uses the MODSEQ key (RFC 7162 §3.1.5).
pub(super) fn mentions_modseq(key: &SearchKey) -> bool {
    match key {
        SearchKey::ModSeq(_) => true,
        SearchKey::Not(k) => mentions_modseq(k),
        SearchKey::Or(a, b) => mentions_modseq(a) || mentions_modseq(b),
        SearchKey::And(ks) => ks.iter().any(mentions_modseq),
        _ => false,
    }
}
