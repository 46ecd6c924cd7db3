//! postfach: an IMAP4rev2 mail server with an embedded, durable store.
//!
//! | concept | file |
//! | --- | --- |
//! | command line, `serve` start-up | `admin/mod.rs` |
//! | `user add/list/del/passwd` | `admin/user.rs` |
//! | `postfach.toml`, defaults | `config.rs` |
//! | passwords, SASL PLAIN | `auth.rs` |
//! | certificates, rustls | `tls.rs` |
//! | the IMAP server | `imap/` |
//! | LMTP listener and session | `lmtp/` |
//! | storing a delivered message for its recipients | `delivery.rs` |
//! | Sieve at delivery, SMTP relay client | `delivery/filter.rs`, `delivery/relay.rs` |
//! | ManageSieve (RFC 5804) | `managesieve/` |
//! | COMPRESS=DEFLATE stream (IMAP RFC 4978, ManageSieve) | `compress.rs` |
//! | `sieve put/get/list/…/test` | `admin/sieve.rs` |
//! | other processes' changes reaching a running server's sessions | `notify.rs` |
//! | quotas: warning notice, KiB units, sizes for people | `quota.rs` |
//! | `serve --workers N`: supervisor, worker processes | `workers.rs` |

pub mod admin;
pub mod auth;
pub mod compress;
pub mod config;
pub mod delivery;
pub mod imap;
pub mod lmtp;
pub mod managesieve;
pub mod notify;
pub mod quota;
pub mod tls;
pub mod workers;
