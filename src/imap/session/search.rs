//! SEARCH and UID SEARCH, with ESEARCH return options and SEARCHRES.

use imap_proto::{Code, Data, SearchKey, SearchReturn, SequenceSet, Tag};

use super::{Done, Session};
use crate::imap::error::{ImapError, Result};
use crate::imap::search::{matches, needs_body, SearchContext};
use crate::imap::selected::View;

const CHUNK: usize = 512;

impl Session {
    /// RFC 9051 §6.4.4 SEARCH: `search = "SEARCH" [search-return-opts] SP search-program`;
    /// RFC 4731 ESEARCH (MIN, MAX, ALL, COUNT); RFC 5182 SEARCHRES (SAVE, `$`).
    /// IMAP4rev2 clients always get ESEARCH; IMAP4rev1 clients get the
    /// `* SEARCH` response unless they asked for RETURN options.
    pub(super) async fn cmd_search(
        &mut self,
        tag: &Tag,
        uid: bool,
        charset: Option<String>,
        ret: Option<Vec<SearchReturn>>,
        criteria: SearchKey,
    ) -> Result<Done> {
        if let Some(cs) = &charset {
            if !cs.eq_ignore_ascii_case("UTF-8") && !cs.eq_ignore_ascii_case("US-ASCII") {
                return Err(ImapError::no(
                    Code::BadCharset(vec!["UTF-8".into(), "US-ASCII".into()]),
                    format!("unsupported charset {cs}"),
                ));
            }
        }
        let account = self.account()?;
        let view = self.view()?;
        let criteria = substitute_saved(criteria, view);
        let mailbox = view.mailbox.id;
        let uids = view.uids.clone();
        let largest_seq = view.exists();
        let largest_uid = view.largest_uid();
        let with_body = needs_body(&criteria);
        let now = chrono::Utc::now().timestamp();
        let mut hits: Vec<(u32, u32)> = Vec::new();
        for chunk in uids.chunks(CHUNK) {
            let records = account.records(mailbox, chunk.to_vec()).await?;
            for rec in &records {
                let raw = if with_body { Some(self.read_message(rec).await?) } else { None };
                let Some(seq) = self.view()?.seq_of(rec.uid) else { continue };
                let ctx = SearchContext { seq, largest_seq, largest_uid, record: rec, raw: raw.as_deref(), now };
                if matches(&criteria, &ctx) {
                    hits.push((seq, rec.uid));
                }
            }
        }
        let numbers: Vec<u32> = hits.iter().map(|&(s, u)| if uid { u } else { s }).collect();
        let ret = match ret {
            Some(r) if r.is_empty() => Some(vec![SearchReturn::All]),
            Some(r) => Some(r),
            None if self.enabled.imap4rev2 => Some(vec![SearchReturn::All]),
            None => None,
        };
        let Some(ret) = ret else {
            self.data(Data::Search { numbers, modseq: None });
            return Ok(Done::ok("SEARCH completed"));
        };
        let has = |o: SearchReturn| ret.contains(&o);
        if has(SearchReturn::Save) {
            // RFC 5182 §2.1: with MIN/MAX (and not ALL/COUNT) only those are saved.
            let mut saved: Vec<u32> = hits.iter().map(|&(_, u)| u).collect();
            if (has(SearchReturn::Min) || has(SearchReturn::Max))
                && !has(SearchReturn::All)
                && !has(SearchReturn::Count)
            {
                let mut keep = Vec::new();
                if has(SearchReturn::Min) {
                    keep.extend(saved.first().copied());
                }
                if has(SearchReturn::Max) {
                    keep.extend(saved.last().copied());
                }
                keep.dedup();
                saved = keep;
            }
            self.view()?.saved = saved;
            if ret.iter().all(|&o| o == SearchReturn::Save) {
                return Ok(Done::ok("SEARCH completed, result saved"));
            }
        }
        self.data(Data::ESearch {
            tag: Some(tag.clone()),
            uid,
            min: if has(SearchReturn::Min) { numbers.iter().min().copied() } else { None },
            max: if has(SearchReturn::Max) { numbers.iter().max().copied() } else { None },
            all: if has(SearchReturn::All) { SequenceSet::from_numbers(numbers.clone()) } else { None },
            count: if has(SearchReturn::Count) { Some(numbers.len() as u32) } else { None },
            modseq: None,
        });
        Ok(Done::ok("SEARCH completed"))
    }
}

/// Replaces `$` (RFC 5182) with the saved result: as UIDs in `UID $`, as
/// sequence numbers where a bare sequence set stands.
fn substitute_saved(key: SearchKey, view: &View) -> SearchKey {
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
