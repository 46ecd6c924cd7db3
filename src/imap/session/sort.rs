//! SORT and UID SORT (RFC 5256 §3; RFC 5957 DISPLAYFROM/DISPLAYTO; RFC 5267
//! §3 ESORT; RFC 9394 PARTIAL). Keys come from the metadata stored at
//! delivery ([`crate::imap::sort`]).

use imap_proto::{Data, SearchKey, SearchReturn, SortCriterion, Tag};
use store::{FetchParts, MailboxId, SortColumn};

use super::search::{check_charset, mentions_modseq, substitute_saved};
use super::{Done, Session};
use crate::imap::error::Result;
use crate::imap::sort::{sort, sort_column, sort_item, sort_keys};

/// Messages whose sort keys are computed per request ([`Session::add_sort_keys`]).
const CHUNK: usize = 512;

impl Session {
    /// `sort = ["UID" SP] "SORT" [search-return-opts] SP sort-criteria SP search-criteria`.
    /// Without RETURN the answer is `* SORT …` (RFC 5256 §4); with it, an
    /// ESEARCH response in sort order (RFC 5267 §3); RFC 5267 §4.3 UPDATE
    /// keeps a SORT context ([`crate::imap::context`]).
    pub(super) async fn cmd_sort(
        &mut self,
        tag: &Tag,
        uid: bool,
        ret: Option<Vec<SearchReturn>>,
        criteria: Vec<SortCriterion>,
        charset: &str,
        search: SearchKey,
    ) -> Result<Done> {
        check_charset(charset)?;
        let search = substitute_saved(search, self.view()?);
        let mut ret = ret;
        let update = match ret.as_mut() {
            Some(r) => self.take_update(tag, uid, r, &search)?,
            None => None,
        };
        let (hits, modseq, items) = if update.is_some() {
            // An update context keeps every member's key values, to place
            // messages that arrive later (crate::imap::context).
            let mut items = self.matching(&search, |seq, rec| sort_item(seq, rec, &criteria)).await?;
            sort(&mut items, &criteria);
            // RFC 7162 §3.1.5: SORT with a MODSEQ criterion reports the highest MODSEQ.
            let modseq = if mentions_modseq(&search) { items.iter().map(|i| i.modseq).max() } else { None };
            let hits: Vec<(u32, u32)> = items.iter().map(|i| (i.seq, i.uid)).collect();
            (hits, modseq, items)
        } else {
            let (hits, modseq) = self.sorted(&search, &criteria).await?;
            (hits, modseq, Vec::new())
        };
        match ret {
            None => {
                let numbers = hits.iter().map(|&(s, u)| if uid { u } else { s }).collect();
                self.data(Data::Sort { numbers, modseq });
                Ok(Done::ok("SORT completed"))
            }
            Some(ret) => {
                let saved = self.esearch(tag, uid, &ret, &hits, modseq)?;
                if let Some(req) = update {
                    return Ok(Done::ok(match self.keep_sort_context(req, criteria, items)? {
                        true => "SORT completed, will notify",
                        false => "SORT completed, will not notify",
                    }));
                }
                if saved {
                    return Ok(Done::ok("SORT completed, result saved"));
                }
                Ok(Done::ok("SORT completed"))
            }
        }
    }

    /// The messages of the view that match `search`, `(seq, uid)` in the
    /// order of `criteria`, and their highest MODSEQ if `search` mentions
    /// MODSEQ (RFC 7162 §3.1.5). The order comes from the sort keys stored
    /// with each message (issue #6); the search program only decides which
    /// messages are in it, so `ALL` reads no message at all.
    async fn sorted(
        &mut self,
        search: &SearchKey,
        criteria: &[SortCriterion],
    ) -> Result<(Vec<(u32, u32)>, Option<u64>)> {
        // `(uid, modseq)` ascending; `None`: every message of the view.
        let members = match search {
            SearchKey::All => None,
            _ => Some(self.matching(search, |_, rec| (rec.uid, rec.modseq)).await?),
        };
        let modseq = if mentions_modseq(search) { members.iter().flatten().map(|&(_, m)| m).max() } else { None };
        let member = |uid: u32| members.as_ref().is_none_or(|m| m.binary_search_by_key(&uid, |&(u, _)| u).is_ok());
        let account = self.account()?;
        let mailbox = self.view()?.mailbox.id;
        let columns: Vec<(SortColumn, bool)> = criteria.iter().map(|c| (sort_column(c.key), c.reverse)).collect();
        let mut keyed = false;
        loop {
            let order = account.sort_order(mailbox, columns.clone()).await?;
            let view = self.view()?;
            let seqs = SeqLookup::new(&view.uids);
            let hits: Vec<(u32, u32)> =
                order.iter().filter_map(|&uid| Some((seqs.get(uid)?, uid))).filter(|&(_, uid)| member(uid)).collect();
            let expected = members.as_ref().map_or(view.uids.len(), Vec::len);
            if hits.len() >= expected || keyed {
                return Ok((hits, modseq));
            }
            // Messages stored without keys (before migration 12) are not in
            // the order: compute their keys and ask again. What is still
            // missing then was expunged meanwhile, and is skipped as SEARCH
            // skips it.
            let mut listed: Vec<u32> = hits.iter().map(|&(_, uid)| uid).collect();
            listed.sort_unstable();
            let missing: Vec<u32> =
                view.uids.iter().copied().filter(|&u| member(u) && listed.binary_search(&u).is_err()).collect();
            if self.add_sort_keys(mailbox, missing).await? == 0 {
                return Ok((hits, modseq));
            }
            keyed = true;
        }
    }

    /// Computes and stores the sort keys of messages that have none, from
    /// their stored metadata; returns how many were found.
    async fn add_sort_keys(&mut self, mailbox: MailboxId, uids: Vec<u32>) -> Result<usize> {
        let account = self.account()?;
        let parts = FetchParts { keys: true, ..Default::default() };
        let mut n = 0;
        for chunk in uids.chunks(CHUNK) {
            let records = account.fetch_records(mailbox, chunk.to_vec(), parts).await?;
            n += records.len();
            let keys = records.iter().map(|r| (r.uid, sort_keys(&r.meta))).collect();
            account.set_sort_keys(mailbox, keys).await?;
        }
        Ok(n)
    }
}

/// Sequence numbers of a view's UIDs (ascending) for many lookups: a table
/// over the UID range when that is dense, else a binary search.
struct SeqLookup<'a> {
    uids: &'a [u32],
    first: u32,
    /// Sequence number per `uid - first`, 0 for none; empty when sparse.
    table: Vec<u32>,
}

impl<'a> SeqLookup<'a> {
    fn new(uids: &'a [u32]) -> Self {
        let (first, last) = (uids.first().copied().unwrap_or(0), uids.last().copied().unwrap_or(0));
        let mut table = Vec::new();
        if u64::from(last - first) < 4 * uids.len() as u64 {
            table = vec![0; (last - first) as usize + 1];
            for (i, &u) in uids.iter().enumerate() {
                table[(u - first) as usize] = i as u32 + 1;
            }
        }
        SeqLookup { uids, first, table }
    }

    fn get(&self, uid: u32) -> Option<u32> {
        if self.table.is_empty() {
            return self.uids.binary_search(&uid).ok().map(|i| i as u32 + 1);
        }
        let i = uid.checked_sub(self.first)? as usize;
        self.table.get(i).copied().filter(|&s| s != 0)
    }
}
