//! CANCELUPDATE (RFC 5267 §4.3.5).

use super::{Done, Session};
use crate::imap::error::Result;

impl Session {
    /// RFC 5267 §4.3.5 CANCELUPDATE: `"CANCELUPDATE" 1*(SP quoted)` ends the
    /// update contexts of the named searching commands; no ADDTO/REMOVEFROM
    /// for them follows. A tag that names no context (never one, or already
    /// ended) is not an error: the client's wish is fulfilled either way.
    pub(super) fn cmd_cancelupdate(&mut self, tags: &[String]) -> Result<Done> {
        let unknown = self.cancel_contexts(tags)?;
        if unknown.is_empty() {
            return Ok(Done::ok("No further updates"));
        }
        Ok(Done::ok(format!("No further updates (no update context for {})", unknown.join(", "))))
    }
}
