//! The IMAP server: listeners ([`server`]), framing ([`connection`]), the
//! state machine and one file per command ([`session`]), the selected view
//! ([`selected`]), message content for FETCH ([`fetch`]) and SEARCH
//! ([`search`]).

pub mod connection;
pub mod context;
pub mod convert;
pub mod error;
pub mod fetch;
pub mod imapurl;
pub mod search;
pub mod selected;
pub mod server;
pub mod session;
pub mod sort;
pub mod thread;

pub use server::{serve, Server};
