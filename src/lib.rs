//! postfach: an IMAP4rev2 mail server with an embedded, durable store.
pub mod imap;
