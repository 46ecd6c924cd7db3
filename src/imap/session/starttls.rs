//! STARTTLS.

use super::{After, Done, Session};
use crate::imap::error::{ImapError, Result};

impl Session {
    /// RFC 9051 §6.2.1 STARTTLS. The TLS handshake starts right after the
    /// tagged OK; bytes the client pipelined after the command are discarded.
    pub(super) fn cmd_starttls(&mut self) -> Result<Done> {
        if self.tls {
            return Err(ImapError::bad("TLS is already active"));
        }
        Ok(Done { code: None, text: "begin TLS negotiation now".into(), after: After::StartTls })
    }
}
