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
    "CONDSTORE",
    "QRESYNC",
    "NOTIFY",
    "COMPRESS=DEFLATE",
    "UNAUTHENTICATE",
    "UTF8=ACCEPT",
    "WITHIN",
    "OBJECTID",
    "SAVEDATE",
    "SORT",
    "SORT=DISPLAY",
    "THREAD=ORDEREDSUBJECT",
    "THREAD=REFERENCES",
    "THREAD=REFS",
    "ESORT",
    "CONTEXT=SEARCH",
    "CONTEXT=SORT",
    "PARTIAL",
    "QUOTA",
    "QUOTA=RES-STORAGE",
    "QUOTA=RES-MESSAGE",
    "CATENATE",
    "URL-PARTIAL",
    "REPLACE",
    "PREVIEW",
    "METADATA",
    "LIST-METADATA",
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
        // RFC 7889 §2: one limit for every mailbox, the literal size limit.
        caps.push(format!("APPENDLIMIT={}", self.append_limit()));
        caps
    }

    /// Plaintext passwords are refused on non-TLS connections from
    /// non-loopback peers unless the config allows them.
    pub fn login_disabled(&self) -> bool {
        plaintext_refused(self.tls, self.peer.ip(), self.shared.config.auth.allow_plaintext)
    }
}

/// RFC 9051 §6.2.3 / §11.1: a server SHOULD refuse plaintext passwords on an
/// unprotected connection. Loopback is exempt (nothing crosses a network).
pub fn plaintext_refused(tls: bool, peer: std::net::IpAddr, allow_plaintext: bool) -> bool {
    !tls && !peer.is_loopback() && !allow_plaintext
}

#[cfg(test)]
mod tests {
    use super::plaintext_refused;

    #[test]
    fn logindisabled_applies_to_plain_non_loopback_connections_only() {
        let remote = "192.0.2.7".parse().unwrap();
        let remote6 = "2001:db8::7".parse().unwrap();
        assert!(plaintext_refused(false, remote, false));
        assert!(plaintext_refused(false, remote6, false));
        assert!(!plaintext_refused(true, remote, false), "TLS protects the password");
        assert!(!plaintext_refused(false, remote, true), "the admin allowed plaintext");
        assert!(!plaintext_refused(false, "127.0.0.1".parse().unwrap(), false));
        assert!(!plaintext_refused(false, "::1".parse().unwrap(), false));
    }
}
