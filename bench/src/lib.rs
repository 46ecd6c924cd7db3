//! postfach-bench: an imaptest-like IMAP load generator, an LMTP delivery
//! load generator, a large-mailbox timer, an IDLE connection holder, and a
//! deterministic message corpus generator (issue #6). It talks to any server
//! over plain TCP on loopback and shares no code with postfach.

pub mod big;
pub mod corpus;
pub mod idle;
pub mod imap;
pub mod lmtp;
pub mod mixed;
pub mod report;
pub mod stats;
