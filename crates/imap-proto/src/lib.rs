//! The IMAP grammar, and nothing else: typed commands and responses
//! ([`types`]), the command parser ([`parser`]), the response encoder
//! ([`encoder`]) and modified UTF-7 mailbox names ([`utf7`]). No I/O, no
//! storage: the server's connection frames lines and literals into
//! [`Fragment`]s and hands them to [`parser::parse_command`].
//!
//! Grammar references are RFC 9051 §9 (IMAP4rev2) plus the forms of RFC 3501
//! (IMAP4rev1) that clients still send, and the extensions named on each type.

#![forbid(unsafe_code)]

pub mod encoder;
pub mod parser;
pub mod types;
pub mod utf7;

pub use types::*;
