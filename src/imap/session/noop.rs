//! NOOP and CHECK.

use super::{Done, Session};
use crate::imap::error::Result;

impl Session {
    /// RFC 9051 §6.1.2 NOOP (also RFC 3501 §6.4.1 CHECK, which IMAP4rev2
    /// removed and which behaves as NOOP). Pending updates are sent before the
    /// tagged OK by the command loop.
    pub(super) fn cmd_noop(&mut self) -> Result<Done> {
        Ok(Done::ok("NOOP completed"))
    }
}
