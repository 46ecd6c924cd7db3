//! RFC 9394 §3.3: the PARTIAL modifier of UID FETCH.

use imap_proto::{PartialRange, SequenceSet};

use super::Session;
use crate::imap::error::Result;

impl Session {
    /// Narrows a UID FETCH set to the messages at the positions `partial`
    /// selects among the existing messages of `set` (ascending UID; `-1` is
    /// the last). `None` when no message is selected.
    pub(super) fn partial_set(
        &mut self,
        set: SequenceSet,
        uid: bool,
        partial: Option<PartialRange>,
    ) -> Result<Option<SequenceSet>> {
        let Some(range) = partial else {
            return Ok(Some(set));
        };
        let uids = self.resolve_uids(&set, uid)?;
        Ok(SequenceSet::from_numbers(uids[range.slice(uids.len())].to_vec()))
    }
}
