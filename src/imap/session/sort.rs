//! SORT and UID SORT (RFC 5256 §3; RFC 5957 DISPLAYFROM/DISPLAYTO; RFC 5267
//! §3 ESORT; RFC 9394 PARTIAL). Keys come from the metadata stored at
//! delivery ([`crate::imap::sort`]).

use imap_proto::{Data, SearchKey, SearchReturn, SortCriterion, Tag};

use super::search::{check_charset, mentions_modseq, substitute_saved};
use super::{Done, Session};
use crate::imap::error::Result;
use crate::imap::sort::{sort, sort_item};

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
        let mut items = self.matching(&search, |seq, rec| sort_item(seq, rec, &criteria)).await?;
        sort(&mut items, &criteria);
        // RFC 7162 §3.1.5: SORT with a MODSEQ criterion reports the highest MODSEQ.
        let modseq = if mentions_modseq(&search) { items.iter().map(|i| i.modseq).max() } else { None };
        let hits: Vec<(u32, u32)> = items.iter().map(|i| (i.seq, i.uid)).collect();
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
}
