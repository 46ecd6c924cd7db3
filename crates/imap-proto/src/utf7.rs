//! Modified UTF-7 mailbox names (RFC 3501 §5.1.3; RFC 9051 §5.1.3 for clients
//! that did not enable UTF8=ACCEPT).

use thiserror::Error;

#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("invalid modified UTF-7 mailbox name")]
pub struct Utf7Error;

/// UTF-8 → modified UTF-7.
pub fn encode(name: &str) -> String {
    todo!()
}

/// Modified UTF-7 → UTF-8. Rejects non-canonical forms (RFC 3501 §5.1.3: "&-"
/// only for "&", no encoded printable ASCII, no zero-length shifts …).
pub fn decode(name: &str) -> Result<String, Utf7Error> {
    todo!()
}
