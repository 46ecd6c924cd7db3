//! UNSELECT.

use super::{Done, Session};
use crate::imap::error::Result;

impl Session {
    /// RFC 9051 §6.4.2 UNSELECT (RFC 3691): like CLOSE without expunging.
    pub(super) fn cmd_unselect(&mut self) -> Result<Done> {
        self.deselect(false);
        Ok(Done::ok("UNSELECT completed"))
    }
}
