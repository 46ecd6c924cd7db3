//! LOGOUT.

use imap_proto::{Response, StatusKind};

use super::{After, Done, Session, State};
use crate::imap::error::Result;

impl Session {
    /// RFC 9051 §6.1.3 LOGOUT: `* BYE`, then the tagged OK, then close.
    pub(super) fn cmd_logout(&mut self) -> Result<Done> {
        self.write(&Response::Status {
            tag: None,
            kind: StatusKind::Bye,
            code: None,
            text: "postfach logging out".into(),
        });
        self.state = State::Logout;
        Ok(Done { code: None, text: "LOGOUT completed".into(), after: After::Logout })
    }
}
