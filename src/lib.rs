//! postfach: an IMAP4rev2 mail server with an embedded, durable store.
//! See README.md for the concept → file map.

pub mod auth;
pub mod config;
pub mod imap;
