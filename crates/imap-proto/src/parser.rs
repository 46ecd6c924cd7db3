//! The command parser (RFC 9051 §9 `command`).

use thiserror::Error;

use crate::{Command, Fragment, LiteralHeader, Tag};

/// Limits the parser enforces (the connection enforces line and literal sizes).
#[derive(Debug, Clone)]
pub struct ParseLimits {
    /// Deepest nesting of parenthesised lists (search keys, flag lists …).
    pub max_depth: usize,
}

impl Default for ParseLimits {
    fn default() -> Self {
        ParseLimits { max_depth: 32 }
    }
}

/// Why a command could not be parsed. `tag` is set when the tag itself was valid,
/// so the server can answer `tag BAD …`; otherwise it answers `* BAD …`.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("{message}")]
pub struct ParseError {
    pub tag: Option<Tag>,
    pub message: String,
}

/// `ATOM-CHAR = <any CHAR except atom-specials>`
pub fn is_atom_char(b: u8) -> bool {
    todo!()
}

/// `ASTRING-CHAR = ATOM-CHAR / resp-specials`
pub fn is_astring_char(b: u8) -> bool {
    todo!()
}

/// If `line` (without CRLF) ends with a literal marker `{N}`, `{N+}` or `~{N}`,
/// returns it.
pub fn literal_header(line: &[u8]) -> Option<LiteralHeader> {
    todo!()
}

/// The tag at the start of a line, if it is a valid tag followed by SP.
pub fn peek_tag(line: &[u8]) -> Option<Tag> {
    todo!()
}

/// Parses one complete command from its fragments.
pub fn parse_command(fragments: Vec<Fragment>, limits: &ParseLimits) -> Result<Command, ParseError> {
    todo!()
}

/// Parses a SASL continuation line (RFC 9051 §6.2.2): base64, or `*` to cancel
/// (`Ok(None)`).
pub fn parse_sasl_response(line: &[u8]) -> Result<Option<Vec<u8>>, ParseError> {
    todo!()
}
