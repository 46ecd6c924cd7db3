//! `postfach.toml`: every setting, its default, and why. On first start the
//! file is written with every setting commented out (see [`Config::load_or_init`]).

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

/// The whole configuration. Every `serve` flag has a key here and vice versa.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub listen: Listen,
    pub tls: Tls,
    pub limits: Limits,
    pub auth: Auth,
}

/// Listener addresses; `None` disables a listener (`"none"` in the file or on
/// the command line).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Listen {
    /// Plain IMAP with STARTTLS. Default `127.0.0.1:1143`.
    #[serde(deserialize_with = "de_addr")]
    pub imap: Option<SocketAddr>,
    /// Implicit-TLS IMAP. Default `127.0.0.1:1993`.
    #[serde(deserialize_with = "de_addr")]
    pub imaps: Option<SocketAddr>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Tls {
    /// PEM certificate chain. When unset, `DATA/tls/cert.pem` is generated
    /// (self-signed) on first start and used.
    pub cert: Option<PathBuf>,
    /// PEM private key belonging to `cert`.
    pub key: Option<PathBuf>,
}

/// Protocol limits (RFC 9051 §4 leaves them to the server). Each has a reason.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Longest command line without its literals. 64 KiB: long UID sets from
    /// clients that do not compress them (RFC 7162 §4 recommends ≥ 8192).
    pub max_line_length: usize,
    /// Largest literal (an APPENDed message). 64 MiB: above common 25–50 MiB
    /// message size limits, with room for base64 overhead.
    pub max_literal_size: u64,
    /// Literals larger than this are spooled to a temporary file instead of
    /// memory. 256 KiB.
    pub spool_threshold: u64,
    /// Deepest parenthesis nesting in a command. 32: real clients use < 5.
    pub max_nesting: usize,
    /// Commands on one connection before it is closed with BYE; 0 = unlimited.
    /// Default 0: a phone may keep a connection for days.
    pub max_commands_per_connection: u64,
    /// Failed authentications on one connection before BYE. 3.
    pub max_auth_failures: u32,
    /// Seconds of inactivity before logout, before authentication. 60
    /// (RFC 9051 §5.4 only sets a floor for the authenticated states).
    pub idle_timeout_unauthenticated: u64,
    /// Seconds of inactivity before logout once authenticated. 1800: RFC 9051
    /// §5.4 requires at least 30 minutes.
    pub idle_timeout_authenticated: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Auth {
    /// Allow LOGIN/AUTHENTICATE on plain (non-TLS) connections from
    /// non-loopback addresses. Default false: such connections advertise
    /// LOGINDISABLED until STARTTLS (RFC 9051 §6.2.3).
    pub allow_plaintext: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config { listen: Listen::default(), tls: Tls::default(), limits: Limits::default(), auth: Auth::default() }
    }
}

impl Default for Listen {
    fn default() -> Self {
        Listen { imap: Some(([127, 0, 0, 1], 1143).into()), imaps: Some(([127, 0, 0, 1], 1993).into()) }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line_length: 64 * 1024,
            max_literal_size: 64 * 1024 * 1024,
            spool_threshold: 256 * 1024,
            max_nesting: 32,
            max_commands_per_connection: 0,
            max_auth_failures: 3,
            idle_timeout_unauthenticated: 60,
            idle_timeout_authenticated: 1800,
        }
    }
}

impl Default for Auth {
    fn default() -> Self {
        Auth { allow_plaintext: false }
    }
}

/// Parses a listener address: `host:port`, or `none` to disable.
pub fn parse_listen_addr(s: &str) -> Result<Option<SocketAddr>, String> {
    if s.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    s.parse().map(Some).map_err(|e| format!("invalid listen address {s:?}: {e}"))
}

fn de_addr<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<SocketAddr>, D::Error> {
    let s = String::deserialize(d)?;
    parse_listen_addr(&s).map_err(serde::de::Error::custom)
}
