//! CAPABILITY, and the capability list every other part of the server reports.

use super::{Done, Session, State};
use crate::imap::error::Result;
use imap_proto::Data;

/// Extensions postfach implements in every state (RFC 9051 §6.1.1 lists only
/// what is really implemented).
const EXTENSIONS: &[&str] = &[
    "LITERAL+",
    "ENABLE",
    "ID",
    "IDLE",
    "NAMESPACE",
    "UNSELECT",
    "UIDPLUS",
    "MOVE",
    "MULTIAPPEND",
    "CHILDREN",
    "LIST-EXTENDED",
    "LIST-STATUS",
    "SPECIAL-USE",
    "CREATE-SPECIAL-USE",
    "ESEARCH",
    "SEARCHRES",
    "STATUS=SIZE",
    "BINARY",
];

impl Session {
    /// RFC 9051 §6.1.1 CAPABILITY: `capability-data = "CAPABILITY" *(SP capability) SP "IMAP4rev2" *(SP capability)`
    pub(super) fn cmd_capability(&mut self) -> Result<Done> {
        let caps = self.capabilities();
        self.data(Data::Capability(caps));
        Ok(Done::ok("CAPABILITY completed"))
    }

    /// The capabilities for the current state and transport: STARTTLS only on a
    /// plain connection; LOGINDISABLED (RFC 9051 §6.2.3) instead of the AUTH=
    /// mechanisms where plaintext login is refused.
    pub fn capabilities(&self) -> Vec<String> {
        let mut caps: Vec<String> = vec!["IMAP4rev2".into(), "IMAP4rev1".into()];
        if matches!(self.state, State::NotAuthenticated) {
            if !self.tls {
                caps.push("STARTTLS".into());
            }
            if self.login_disabled() {
                caps.push("LOGINDISABLED".into());
            } else {
                caps.extend(["AUTH=PLAIN", "AUTH=LOGIN", "SASL-IR"].map(String::from));
            }
        }
        caps.extend(EXTENSIONS.iter().map(|s| s.to_string()));
        caps
    }

    /// Plaintext passwords are refused on non-TLS connections from
    /// non-loopback peers unless the config allows them.
    pub fn login_disabled(&self) -> bool {
        !self.tls && !self.peer.ip().is_loopback() && !self.shared.config.auth.allow_plaintext
    }
}
