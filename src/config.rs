//! `postfach.toml`: every setting, its default, and why. On first start the
//! file is written with every setting commented out (see [`Config::load_or_init`]).

use std::net::SocketAddr;
use std::path::PathBuf;

use std::path::Path;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

/// The whole configuration. Every `serve` flag has a key here and vice versa.
/// (`PartialEq` only: `[sieve] spamtest_max` is a float.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub listen: Listen,
    pub server: Server,
    pub tls: Tls,
    pub limits: Limits,
    pub auth: Auth,
    pub sync: Sync,
    pub delivery: Delivery,
    pub quota: Quota,
    pub sieve: Sieve,
    pub submission: Submission,
    pub metadata: Metadata,
    pub search: Search,
}

/// How the server runs (docs/architecture.md, "Worker processes").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Server {
    /// Worker processes serving connections. 1: one process, as always. More
    /// let one machine hold more connections than one process's open-file
    /// limit allows: `serve` then binds the listeners and supervises that many
    /// workers (`src/workers.rs`), which accept from the same sockets.
    pub workers: usize,
}

impl Default for Server {
    fn default() -> Self {
        Server { workers: 1 }
    }
}

/// Most `[server] workers`: far more than cores on any machine it runs on.
pub const MAX_WORKERS: usize = 64;

/// METADATA (RFC 5464): mailbox and server annotations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Metadata {
    /// Largest value of one entry, in octets (`[METADATA MAXSIZE n]` beyond).
    /// 64 KiB: comments, colours, device tokens and relay URLs are far
    /// smaller; RFC 5464 §4.1 asks for at least 1024.
    pub max_entry_size: usize,
    /// Entries per mailbox, and server entries per account
    /// (`[METADATA TOOMANY]` beyond). 1000; RFC 5464 §4.1 asks for at least 10.
    pub max_entries: usize,
    /// The server's `/shared/admin` entry: how to reach the administrator, a
    /// URI such as `mailto:postmaster@example.org`. Unset: no such entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin: Option<String>,
}

impl Default for Metadata {
    fn default() -> Self {
        Metadata { max_entry_size: 64 * 1024, max_entries: 1000, admin: None }
    }
}

/// SEARCH (RFC 9051 §6.4.4) and the full-text index (issue #7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Search {
    /// Narrow SEARCH/SORT/THREAD string keys with the full-text index built
    /// at delivery. The results are the same either way (every candidate is
    /// checked against the message); `false` reads every message instead.
    pub fts: bool,
}

impl Default for Search {
    fn default() -> Self {
        Search { fts: true }
    }
}

/// Sieve filtering at delivery and ManageSieve (RFC 5228, RFC 5804).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Sieve {
    /// Global script run before the account's active script (Pigeonhole's
    /// `sieve_before`). Unset by default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<PathBuf>,
    /// Global script run after the account's active script (`sieve_after`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<PathBuf>,
    /// Scripts one account may store. 32: a handful of variants to switch
    /// between, far from abuse.
    pub max_scripts: usize,
    /// Largest script, in bytes. 64 KiB: hand-written and generated rule sets
    /// stay well below it; the interpreter's own limit is the same.
    pub max_script_size: usize,
    /// Where spamtest (RFC 5235) reads the spam filter's score: `"Header"` or
    /// `"Header: regex"` (first capture group), like Pigeonhole's
    /// `sieve_spamtest_status_header`. Unset: every message is "not tested" (0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spamtest_header: Option<String>,
    /// The score meaning "certainly spam" (spamtest 10, :percent 100); 0 or
    /// less is "clean" (1). 10.0: SpamAssassin scores rarely go higher.
    pub spamtest_max: f64,
    /// Where virustest (RFC 5235) reads the virus scanner's verdict, in the
    /// form of `spamtest_header`. Unset: "not tested" (0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub virustest_header: Option<String>,
    /// The verdict words for virustest 1 to 5 (case-insensitive); another
    /// word counts as not tested. The defaults are RFC 5235 §3.3's meanings.
    pub virustest_values: Vec<String>,
}

impl Default for Sieve {
    fn default() -> Self {
        Sieve {
            before: None,
            after: None,
            max_scripts: 32,
            max_script_size: 64 * 1024,
            spamtest_header: None,
            spamtest_max: 10.0,
            virustest_header: None,
            virustest_values: ["clean", "replaced", "cured", "suspicious", "infected"].map(String::from).to_vec(),
        }
    }
}

impl Sieve {
    /// spamtest's header as the interpreter reads it; `None` when unset.
    pub fn spamtest(&self) -> Result<Option<sieve::ScoreHeader>, String> {
        let scale = sieve::Scale::Range { min: 0.0, max: self.spamtest_max };
        self.spamtest_header.as_deref().map(|h| sieve::ScoreHeader::parse(h, scale)).transpose()
    }

    /// virustest's header as the interpreter reads it; `None` when unset.
    pub fn virustest(&self) -> Result<Option<sieve::ScoreHeader>, String> {
        if self.virustest_header.is_some() && self.virustest_values.len() != 5 {
            return Err(format!("virustest_values needs 5 words (levels 1 to 5), not {}", self.virustest_values.len()));
        }
        let scale = sieve::Scale::Levels(self.virustest_values.clone());
        self.virustest_header.as_deref().map(|h| sieve::ScoreHeader::parse(h, scale)).transpose()
    }
}

/// Outgoing mail that postfach itself sends: Sieve redirect and vacation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Submission {
    /// SMTP relay (`host:port`, no TLS, no authentication: the local MTA),
    /// or "none" to send nothing (redirected mail is then kept in INBOX).
    #[serde(deserialize_with = "de_addr", serialize_with = "ser_addr")]
    pub relay: Option<SocketAddr>,
}

impl Default for Submission {
    fn default() -> Self {
        Submission { relay: Some(([127, 0, 0, 1], 25).into()) }
    }
}

/// Quotas (RFC 9208). Limits are per account (`postfach quota set`); these are
/// the defaults for new accounts and the enforcement policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Quota {
    /// Storage limit given to new accounts (`"2G"`; suffixes K, M, G, T are
    /// powers of 1024). Unset: unlimited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_storage: Option<String>,
    /// Message-count limit given to new accounts. Unset: unlimited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_messages: Option<u64>,
    /// Answer an over-quota LMTP recipient with `452 4.2.2` (the MTA retries)
    /// instead of `552 5.2.2` (it bounces); `postfach deliver` exits 75
    /// instead of 73.
    pub over_quota_temporary: bool,
    /// Deliver a notice to the user's INBOX once when a delivery or APPEND
    /// takes usage to this percentage of a limit; 0 disables.
    pub warning_percent: u8,
}

impl Default for Quota {
    fn default() -> Self {
        Quota { default_storage: None, default_messages: None, over_quota_temporary: false, warning_percent: 90 }
    }
}

impl Quota {
    /// The limits a new account gets.
    pub fn default_limits(&self) -> store::QuotaLimits {
        store::QuotaLimits {
            storage: self.default_storage.as_deref().and_then(|s| parse_size(s).ok().flatten()),
            messages: self.default_messages,
        }
    }
}

/// Parses a size: bytes, or a number with a K, M, G or T suffix (powers of
/// 1024, case-insensitive, an optional trailing `B`); `none` is `None`.
pub fn parse_size(s: &str) -> Result<Option<u64>, String> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("none") || t.eq_ignore_ascii_case("unlimited") {
        return Ok(None);
    }
    let u = t.to_ascii_uppercase();
    let u = u.strip_suffix("IB").or_else(|| u.strip_suffix('B')).unwrap_or(&u);
    let (digits, mult) = match u.chars().last() {
        Some('K') => (&u[..u.len() - 1], 1u64 << 10),
        Some('M') => (&u[..u.len() - 1], 1 << 20),
        Some('G') => (&u[..u.len() - 1], 1 << 30),
        Some('T') => (&u[..u.len() - 1], 1 << 40),
        _ => (u, 1),
    };
    let n: u64 =
        digits.trim().parse().map_err(|_| format!("invalid size {s:?} (examples: 500M, 2G, 1048576, none)"))?;
    n.checked_mul(mult).map(Some).ok_or_else(|| format!("size {s:?} is too large"))
}

/// Multi-device synchronisation (docs/sync.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Sync {
    /// Seconds between `* OK Still here` lines to an idling client. 120: below
    /// the 5-minute idle timeout of many home routers' NAT tables.
    pub idle_keepalive: u64,
    /// Days a tombstone (the record of an expunged message) is kept for
    /// QRESYNC. 365: a device away for months still gets an exact VANISHED
    /// answer; after that it gets a complete but larger one.
    pub tombstone_retention_days: u64,
}

impl Default for Sync {
    fn default() -> Self {
        Sync { idle_keepalive: 120, tombstone_retention_days: 365 }
    }
}

/// Listener addresses; `None` disables a listener (`"none"` in the file or on
/// the command line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Listen {
    /// Plain IMAP with STARTTLS. Default `127.0.0.1:1143`.
    #[serde(deserialize_with = "de_addr", serialize_with = "ser_addr")]
    pub imap: Option<SocketAddr>,
    /// Implicit-TLS IMAP. Default `127.0.0.1:1993`.
    #[serde(deserialize_with = "de_addr", serialize_with = "ser_addr")]
    pub imaps: Option<SocketAddr>,
    /// LMTP (RFC 2033) for the MTA. Default `127.0.0.1:2424`.
    #[serde(deserialize_with = "de_addr", serialize_with = "ser_addr")]
    pub lmtp: Option<SocketAddr>,
    /// LMTP on a Unix socket as well (Postfix: `lmtp:unix:/path`). Unset by default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lmtp_socket: Option<PathBuf>,
    /// ManageSieve (RFC 5804). Default `127.0.0.1:4190`.
    #[serde(deserialize_with = "de_addr", serialize_with = "ser_addr")]
    pub managesieve: Option<SocketAddr>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Tls {
    /// PEM certificate chain. When unset, `DATA/tls/cert.pem` is generated
    /// (self-signed) on first start and used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert: Option<PathBuf>,
    /// PEM private key belonging to `cert`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<PathBuf>,
}

/// Protocol limits (RFC 9051 §4 leaves them to the server). Each has a reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Longest command line without its literals. 64 KiB: long UID sets from
    /// clients that do not compress them (RFC 7162 §4 recommends ≥ 8192).
    pub max_line_length: usize,
    /// Largest literal (an APPENDed message). 64 MiB: above common 25–50 MiB
    /// message size limits, with room for base64 overhead. Also the largest
    /// message APPEND/REPLACE/CATENATE builds, advertised as `APPENDLIMIT=`
    /// (RFC 7889).
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
    /// Open connections from one IP address. 100: five devices behind one NAT,
    /// five connections each (Thunderbird opens up to five), with room to spare.
    pub max_connections_per_ip: u32,
    /// Logged-in connections of one account. 100, for the same household.
    pub max_connections_per_account: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Auth {
    /// Allow LOGIN/AUTHENTICATE on plain (non-TLS) connections from
    /// non-loopback addresses. Default false: such connections advertise
    /// LOGINDISABLED until STARTTLS (RFC 9051 §6.2.3).
    pub allow_plaintext: bool,
    /// Seconds a successful password check is remembered (src/auth.rs,
    /// `AuthCache`): a login with the same password against the unchanged
    /// stored hash skips Argon2. Failures are never cached. 300; 0 disables.
    pub cache_ttl: u64,
}

/// Mail delivery over LMTP and `postfach deliver` (DESIGN.md §4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Delivery {
    /// Largest message accepted, in bytes, advertised as LMTP `SIZE`
    /// (RFC 1870). 64 MiB, like `limits.max_literal_size`: what a client may
    /// APPEND, an MTA may deliver.
    pub max_message_size: u64,
    /// Longest LMTP command line. 4096: RFC 5321 §4.5.3.1.4 allows 512, plus
    /// room for SMTPUTF8 addresses and ESMTP parameters.
    pub max_line_length: usize,
    /// Recipients per LMTP transaction. 1000: RFC 5321 §4.5.3.1.8 asks for at
    /// least 100; Postfix sends at most 50 by default.
    pub max_recipients: usize,
    /// Separates `local` from `detail` in `local+detail@domain` (RFC 5233).
    /// Empty disables subaddressing.
    pub recipient_delimiter: String,
    /// Add `Return-Path` and `Delivered-To` to each delivered copy (stored
    /// per recipient; the message itself is stored once).
    pub trace_headers: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: Listen::default(),
            server: Server::default(),
            tls: Tls::default(),
            limits: Limits::default(),
            auth: Auth::default(),
            sync: Sync::default(),
            delivery: Delivery::default(),
            quota: Quota::default(),
            sieve: Sieve::default(),
            submission: Submission::default(),
            metadata: Metadata::default(),
            search: Search::default(),
        }
    }
}

impl Default for Listen {
    fn default() -> Self {
        Listen {
            imap: Some(([127, 0, 0, 1], 1143).into()),
            imaps: Some(([127, 0, 0, 1], 1993).into()),
            lmtp: Some(([127, 0, 0, 1], 2424).into()),
            lmtp_socket: None,
            managesieve: Some(([127, 0, 0, 1], 4190).into()),
        }
    }
}

impl Default for Delivery {
    fn default() -> Self {
        Delivery {
            max_message_size: 64 * 1024 * 1024,
            max_line_length: 4096,
            max_recipients: 1000,
            recipient_delimiter: "+".into(),
            trace_headers: true,
        }
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
            max_connections_per_ip: 100,
            max_connections_per_account: 100,
        }
    }
}

impl Default for Auth {
    fn default() -> Self {
        Auth { allow_plaintext: false, cache_ttl: 300 }
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

fn ser_addr<S: serde::Serializer>(a: &Option<SocketAddr>, s: S) -> Result<S::Ok, S::Error> {
    match a {
        Some(a) => s.collect_str(a),
        None => s.serialize_str("none"),
    }
}

/// The file name of the configuration inside the data directory.
pub const FILE_NAME: &str = "postfach.toml";

/// One documented setting of `postfach.toml`. The order of [`SETTINGS`] is the
/// order of the generated file; the values come from [`Config::default`], so
/// the commented file cannot drift from the defaults (a unit test checks that
/// every serialized key has an entry here and vice versa).
struct Setting {
    section: &'static str,
    key: &'static str,
    doc: &'static str,
    /// For settings that are unset by default: an example value, shown as prose.
    example: Option<&'static str>,
}

/// Sections in file order, each with its doc comment.
const SECTIONS: &[(&str, &str)] = &[
    ("listen", "Listener addresses: \"host:port\", or \"none\" to disable a listener.\nThe `serve` flags of the same names override these."),
    ("server", "How the server runs (docs/architecture.md, \"Worker processes\")."),
    ("tls", "TLS certificate. Without one, a self-signed certificate is generated into\nDATA/tls/ on first start and its SHA-256 fingerprint is printed at every start."),
    ("limits", "Protocol limits (RFC 9051 §4 leaves them to the server). Each has a reason."),
    ("auth", "Authentication policy."),
    ("sync", "Multi-device synchronisation (docs/sync.md)."),
    ("delivery", "Mail delivery: LMTP from the MTA, and `postfach deliver`."),
    ("quota", "Quotas (RFC 9208). Limits are per account: `postfach quota set NAME --storage 2G\n--messages 100000`; these are the defaults for new accounts and the policy."),
    ("sieve", "Sieve filters (RFC 5228) run at delivery; users edit theirs over ManageSieve."),
    ("submission", "Mail postfach sends itself: Sieve redirect and vacation replies."),
    ("metadata", "METADATA (RFC 5464): annotations on mailboxes and on the server. Server-wide\n/shared entries are set with `postfach metadata set ENTRY VALUE`."),
    ("search", "SEARCH and the full-text index (docs/architecture.md, \"Full-text search\")."),
];

const SETTINGS: &[Setting] = &[
    Setting { section: "listen", key: "imap", doc: "Plain IMAP with STARTTLS. Production: \"0.0.0.0:143\".", example: None },
    Setting { section: "listen", key: "imaps", doc: "Implicit-TLS IMAP. Production: \"0.0.0.0:993\".", example: None },
    Setting {
        section: "listen",
        key: "lmtp",
        doc: "LMTP (RFC 2033) for the MTA, e.g. Postfix `virtual_transport = lmtp:inet:127.0.0.1:2424`.\nLMTP has no authentication: keep it on loopback or a trusted network.",
        example: None,
    },
    Setting {
        section: "listen",
        key: "lmtp_socket",
        doc: "LMTP on a Unix socket as well (Postfix: `lmtp:unix:/path`).",
        example: Some("lmtp_socket = \"/var/spool/postfix/private/postfach\""),
    },
    Setting {
        section: "listen",
        key: "managesieve",
        doc: "ManageSieve (RFC 5804) for editing Sieve filters (sieve-connect, Thunderbird,\nRoundcube). Production: \"0.0.0.0:4190\"; plain logins need STARTTLS off loopback.",
        example: None,
    },
    Setting {
        section: "server",
        key: "workers",
        doc: "Worker processes serving connections (the `serve --workers` flag). 1: one process.\nMore, when one process's open-file limit (`ulimit -n`) is below the connections\nto hold: each worker holds up to that limit less a reserve, all accept from the same\nlisteners, and the per-IP and per-account connection limits hold for all workers together.",
        example: None,
    },
    Setting {
        section: "tls",
        key: "cert",
        doc: "PEM certificate chain (leaf first). When unset, DATA/tls/cert.pem is\ngenerated (self-signed) on first start and used.",
        example: Some("cert = \"/etc/letsencrypt/live/mail.example.org/fullchain.pem\""),
    },
    Setting {
        section: "tls",
        key: "key",
        doc: "PEM private key belonging to `cert` (PKCS#8, PKCS#1 or SEC1). Set both or neither.",
        example: Some("key = \"/etc/letsencrypt/live/mail.example.org/privkey.pem\""),
    },
    Setting {
        section: "limits",
        key: "max_line_length",
        doc: "Longest command line without its literals, in bytes. 64 KiB: long UID sets from\nclients that do not compress them (RFC 7162 §4 recommends at least 8192).",
        example: None,
    },
    Setting {
        section: "limits",
        key: "max_literal_size",
        doc: "Largest literal (an APPENDed message), in bytes. 64 MiB: above common 25–50 MiB\nmessage size limits, with room for base64 overhead. Also the largest message\nAPPEND, REPLACE or CATENATE may build, advertised as APPENDLIMIT (RFC 7889).",
        example: None,
    },
    Setting {
        section: "limits",
        key: "spool_threshold",
        doc: "Literals larger than this many bytes are spooled to a temporary file instead of memory.",
        example: None,
    },
    Setting { section: "limits", key: "max_nesting", doc: "Deepest parenthesis nesting in a command. Real clients use fewer than 5.", example: None },
    Setting {
        section: "limits",
        key: "max_commands_per_connection",
        doc: "Commands on one connection before it is closed with BYE; 0 = unlimited.\nA phone may keep one connection for days.",
        example: None,
    },
    Setting { section: "limits", key: "max_auth_failures", doc: "Failed authentications on one connection before BYE.", example: None },
    Setting {
        section: "limits",
        key: "idle_timeout_unauthenticated",
        doc: "Seconds of inactivity before logout, before authentication\n(RFC 9051 §5.4 only sets a floor for the authenticated states).",
        example: None,
    },
    Setting {
        section: "limits",
        key: "idle_timeout_authenticated",
        doc: "Seconds of inactivity before logout once authenticated.\nRFC 9051 §5.4 requires at least 30 minutes.",
        example: None,
    },
    Setting {
        section: "auth",
        key: "allow_plaintext",
        doc: "Allow LOGIN/AUTHENTICATE on plain (non-TLS) connections from non-loopback\naddresses. When false, such connections advertise LOGINDISABLED until STARTTLS\n(RFC 9051 §6.2.3).",
        example: None,
    },
    Setting {
        section: "auth",
        key: "cache_ttl",
        doc: "Seconds a successful password check is remembered, so that repeated logins\nwith the same password skip Argon2 (like Dovecot's auth_cache). Held in memory:\nuser, stored hash and HMAC-SHA256 of the password under a random per-process\nkey. Failed logins are never cached and always pay for Argon2; a password change\ntakes effect at once. 0 disables. The trade-off is in docs/architecture.md.",
        example: None,
    },
    Setting {
        section: "limits",
        key: "max_connections_per_ip",
        doc: "Open connections from one IP address; more get `* BYE`. 100: a household of\nfive devices behind one NAT, each client opening up to five, with room to spare.",
        example: None,
    },
    Setting {
        section: "limits",
        key: "max_connections_per_account",
        doc: "Logged-in connections of one account; more get `NO [LIMIT]`. 100, for the same household.",
        example: None,
    },
    Setting {
        section: "sync",
        key: "idle_keepalive",
        doc: "Seconds between `* OK Still here` lines to an idling client. 120: below the\n5-minute idle timeout of many home routers' NAT tables.",
        example: None,
    },
    Setting {
        section: "sync",
        key: "tombstone_retention_days",
        doc: "Days the record of an expunged message is kept for QRESYNC (RFC 7162). A device\naway longer gets a complete but larger answer.",
        example: None,
    },
    Setting {
        section: "delivery",
        key: "max_message_size",
        doc: "Largest message accepted, in bytes, advertised as LMTP SIZE (RFC 1870).\n64 MiB, like max_literal_size: what a client may APPEND, an MTA may deliver.",
        example: None,
    },
    Setting {
        section: "delivery",
        key: "max_line_length",
        doc: "Longest LMTP command line, in bytes. RFC 5321 §4.5.3.1.4 allows 512; more\nleaves room for SMTPUTF8 addresses and parameters.",
        example: None,
    },
    Setting {
        section: "delivery",
        key: "max_recipients",
        doc: "Recipients per LMTP transaction (RFC 5321 §4.5.3.1.8 asks for at least 100).",
        example: None,
    },
    Setting {
        section: "delivery",
        key: "recipient_delimiter",
        doc: "Separates local part and detail in local+detail@domain (RFC 5233); the\nmessage goes to `local`. Empty disables subaddresses.",
        example: None,
    },
    Setting {
        section: "delivery",
        key: "trace_headers",
        doc: "Add Return-Path and Delivered-To to each delivered copy. They are kept per\nrecipient; the message itself is stored once for all recipients.",
        example: None,
    },
    Setting {
        section: "quota",
        key: "default_storage",
        doc: "Storage limit of new accounts: the sum of the sizes of all their messages.\nSuffixes K, M, G, T are powers of 1024. Unlimited when unset.",
        example: Some("default_storage = \"2G\""),
    },
    Setting {
        section: "quota",
        key: "default_messages",
        doc: "Message-count limit of new accounts. Unlimited when unset.",
        example: Some("default_messages = 100000"),
    },
    Setting {
        section: "quota",
        key: "over_quota_temporary",
        doc: "Over quota, LMTP answers 452 4.2.2 (the MTA keeps the message and retries)\ninstead of 552 5.2.2 (it bounces), and `postfach deliver` exits 75 instead of 73.",
        example: None,
    },
    Setting {
        section: "quota",
        key: "warning_percent",
        doc: "When a delivery or APPEND takes usage to this percentage of a limit, a notice\nis delivered to the user's INBOX, once until usage falls below it again. 0 disables.",
        example: None,
    },
    Setting {
        section: "sieve",
        key: "before",
        doc: "Global Sieve script run before each account's active script (like Pigeonhole's\nsieve_before). Each script sees the original message; see README \"Filtering\".",
        example: Some("before = \"/etc/postfach/before.sieve\""),
    },
    Setting {
        section: "sieve",
        key: "after",
        doc: "Global Sieve script run after each account's active script (sieve_after).",
        example: Some("after = \"/etc/postfach/after.sieve\""),
    },
    Setting {
        section: "sieve",
        key: "max_scripts",
        doc: "Scripts one account may store over ManageSieve (QUOTA/MAXSCRIPTS beyond).\n32: a handful of variants to switch between.",
        example: None,
    },
    Setting {
        section: "sieve",
        key: "max_script_size",
        doc: "Largest script in bytes (QUOTA/MAXSIZE beyond). 64 KiB: hand-written and\ngenerated rule sets stay far below it.",
        example: None,
    },
    Setting {
        section: "sieve",
        key: "spamtest_header",
        doc: "Where spamtest (RFC 5235) reads the spam score: \"Header\" (the first number in it) or\n\"Header: regex\" (its first capture group). Unset: every message is \"not tested\".",
        example: Some("spamtest_header = \"X-Spam-Status: score=(-?[0-9.]+)\""),
    },
    Setting {
        section: "sieve",
        key: "spamtest_max",
        doc: "The score meaning \"certainly spam\" (spamtest 10, :percent 100); 0 or less is clean (1).",
        example: None,
    },
    Setting {
        section: "sieve",
        key: "virustest_header",
        doc: "Where virustest (RFC 5235) reads the virus scanner's verdict word, in the form of\nspamtest_header. Unset: every message is \"not tested\".",
        example: Some("virustest_header = \"X-Virus-Status: ^(\\\\w+)\""),
    },
    Setting {
        section: "sieve",
        key: "virustest_values",
        doc: "The verdict words meaning virustest 1 to 5 (RFC 5235 §3.3), case-insensitive;\nany other word counts as not tested.",
        example: None,
    },
    Setting {
        section: "submission",
        key: "relay",
        doc: "SMTP relay for redirect and vacation (plain SMTP, no authentication: your\nlocal MTA), or \"none\". When sending fails, a redirected message is kept in INBOX.",
        example: None,
    },
    Setting {
        section: "metadata",
        key: "max_entry_size",
        doc: "Largest value of one METADATA entry, in octets ([METADATA MAXSIZE] beyond).\n64 KiB: comments, colours and device tokens are far smaller (RFC 5464 asks >= 1024).",
        example: None,
    },
    Setting {
        section: "metadata",
        key: "max_entries",
        doc: "METADATA entries per mailbox, and server entries per account ([METADATA TOOMANY]\nbeyond). RFC 5464 asks for at least 10.",
        example: None,
    },
    Setting {
        section: "metadata",
        key: "admin",
        doc: "The read-only server entry /shared/admin: a URI to reach the administrator.\nUnset: no such entry.",
        example: Some("admin = \"mailto:postmaster@example.org\""),
    },
    Setting {
        section: "search",
        key: "fts",
        doc: "Narrow SEARCH/SORT/THREAD text keys (BODY, TEXT, SUBJECT, FROM, TO, CC, BCC,\nHEADER) with the full-text index built at delivery. Results are identical\neither way; false reads every message (slow on large mailboxes).",
        example: None,
    },
];

impl Config {
    /// The text of a fresh `postfach.toml`: every setting with its doc comment
    /// and its default value, commented out. Prose lines start with `# `,
    /// settings with `#` directly followed by the key, so removing that `#`
    /// gives a valid setting equal to the default.
    pub fn commented_default() -> String {
        let defaults = toml::Value::try_from(Config::default()).expect("the default config serializes");
        let mut out = String::from(
            "# postfach configuration.\n\
             #\n\
             # Every setting is listed with its default value, commented out. To change\n\
             # one, remove the '#' in front of it. Unknown keys are rejected at start.\n",
        );
        for (section, section_doc) in SECTIONS {
            out.push('\n');
            push_comment(&mut out, section_doc);
            out.push_str(&format!("[{section}]\n"));
            for s in SETTINGS.iter().filter(|s| s.section == *section) {
                out.push('\n');
                push_comment(&mut out, s.doc);
                match defaults.get(section).and_then(|t| t.get(s.key)) {
                    Some(v) => out.push_str(&format!("#{} = {v}\n", s.key)),
                    None => {
                        out.push_str("# Unset by default. For example:\n");
                        if let Some(example) = s.example {
                            out.push_str(&format!("#   {example}\n"));
                        }
                    }
                }
            }
        }
        out
    }

    /// Parses the text of a configuration file. `origin` names it in errors.
    pub fn parse(text: &str, origin: &Path) -> anyhow::Result<Config> {
        let config: Config =
            toml::from_str(text).with_context(|| format!("invalid configuration file {}", origin.display()))?;
        config.validate().with_context(|| format!("invalid configuration file {}", origin.display()))?;
        Ok(config)
    }

    /// Loads the configuration, first creating the data directory and, when
    /// `config_path` does not exist, writing [`Config::commented_default`] there.
    pub fn load_or_init(data_dir: &Path, config_path: &Path) -> anyhow::Result<Config> {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("cannot create data directory {}", data_dir.display()))?;
        if !config_path.exists() {
            if let Some(parent) = config_path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create directory {}", parent.display()))?;
            }
            std::fs::write(config_path, Config::commented_default())
                .with_context(|| format!("cannot write configuration file {}", config_path.display()))?;
            tracing::info!(path = %config_path.display(), "wrote default configuration");
        }
        let text = std::fs::read_to_string(config_path)
            .with_context(|| format!("cannot read configuration file {}", config_path.display()))?;
        Config::parse(&text, config_path)
    }

    /// Checks what serde cannot: settings that only make sense together.
    pub fn validate(&self) -> anyhow::Result<()> {
        if !(1..=MAX_WORKERS).contains(&self.server.workers) {
            anyhow::bail!("server.workers must be between 1 and {MAX_WORKERS}");
        }
        match (&self.tls.cert, &self.tls.key) {
            (Some(_), None) => {
                anyhow::bail!("tls.cert is set but tls.key is not; set both or neither")
            }
            (None, Some(_)) => {
                anyhow::bail!("tls.key is set but tls.cert is not; set both or neither")
            }
            _ => {}
        }
        if self.delivery.max_line_length < 512 {
            anyhow::bail!("delivery.max_line_length must be at least 512 (RFC 5321 §4.5.3.1.4)");
        }
        if self.delivery.max_recipients < 1 {
            anyhow::bail!("delivery.max_recipients must be at least 1");
        }
        if let Some(s) = &self.quota.default_storage {
            parse_size(s).map_err(|e| anyhow::anyhow!("quota.default_storage: {e}"))?;
        }
        if self.quota.warning_percent > 100 {
            anyhow::bail!("quota.warning_percent must be between 0 and 100");
        }
        if self.sieve.max_script_size == 0 {
            anyhow::bail!("sieve.max_script_size must be at least 1");
        }
        self.sieve.spamtest().map_err(|e| anyhow::anyhow!("sieve.spamtest_header: {e}"))?;
        self.sieve.virustest().map_err(|e| anyhow::anyhow!("sieve.virustest_header: {e}"))?;
        if self.limits.idle_timeout_authenticated < 30 * 60 {
            anyhow::bail!(
                "limits.idle_timeout_authenticated = {} is below the 1800 seconds RFC 9051 §5.4 requires",
                self.limits.idle_timeout_authenticated
            );
        }
        Ok(())
    }
}

fn push_comment(out: &mut String, doc: &str) {
    for line in doc.lines() {
        out.push_str("# ");
        out.push_str(line);
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Removes the `#` in front of every setting line (not prose, which starts with `# `).
    fn uncomment(text: &str) -> String {
        text.lines()
            .map(|l| match l.strip_prefix('#') {
                Some(rest) if rest.starts_with(|c: char| c.is_ascii_lowercase()) => rest,
                _ => l,
            })
            .map(|l| format!("{l}\n"))
            .collect()
    }

    #[test]
    fn commented_default_parses_to_default() {
        let text = Config::commented_default();
        // Commented, it is all defaults, too.
        assert_eq!(Config::parse(&text, Path::new("t")).unwrap(), Config::default());
        let uncommented = uncomment(&text);
        assert_ne!(uncommented, text, "some setting should have been uncommented");
        let parsed = Config::parse(&uncommented, Path::new("t")).unwrap();
        let d = Config::default();
        assert_eq!(parsed.listen, d.listen);
        assert_eq!(parsed.tls, d.tls);
        assert_eq!(parsed.limits, d.limits);
        assert_eq!(parsed.auth, d.auth);
        assert_eq!(parsed.delivery, d.delivery);
        assert_eq!(parsed, d);
        // Every default-valued key really appears uncommented.
        let table: toml::Table = toml::from_str(&uncommented).unwrap();
        assert_eq!(table["limits"]["max_line_length"].as_integer(), Some(65536));
        assert_eq!(table["listen"]["imap"].as_str(), Some("127.0.0.1:1143"));
    }

    #[test]
    fn every_setting_is_documented() {
        // A config with every optional value set serializes every key.
        let mut full = Config::default();
        full.tls.cert = Some("c.pem".into());
        full.tls.key = Some("k.pem".into());
        full.listen.lmtp_socket = Some("/run/lmtp".into());
        full.quota.default_storage = Some("2G".into());
        full.quota.default_messages = Some(100_000);
        full.sieve.before = Some("/b.sieve".into());
        full.sieve.after = Some("/a.sieve".into());
        full.metadata.admin = Some("mailto:postmaster@example.org".into());
        full.sieve.spamtest_header = Some("X-Spam-Score".into());
        full.sieve.virustest_header = Some("X-Virus-Status".into());
        let toml::Value::Table(top) = toml::Value::try_from(&full).unwrap() else { panic!() };
        let mut serialized = Vec::new();
        for (section, table) in &top {
            assert!(SECTIONS.iter().any(|(s, _)| s == section), "section [{section}] has no doc");
            for key in table.as_table().unwrap().keys() {
                serialized.push(format!("{section}.{key}"));
            }
        }
        let mut documented: Vec<String> = SETTINGS.iter().map(|s| format!("{}.{}", s.section, s.key)).collect();
        serialized.sort();
        documented.sort();
        assert_eq!(serialized, documented);
        let text = Config::commented_default();
        for s in SETTINGS {
            assert!(text.contains(s.doc.lines().next().unwrap()), "{}.{} doc missing", s.section, s.key);
        }
        assert!(text.contains("#   cert = "));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("2G"), Ok(Some(2 << 30)));
        assert_eq!(parse_size("10k"), Ok(Some(10240)));
        assert_eq!(parse_size("5MB"), Ok(Some(5 << 20)));
        assert_eq!(parse_size("1TiB"), Ok(Some(1 << 40)));
        assert_eq!(parse_size("1234"), Ok(Some(1234)));
        assert_eq!(parse_size("none"), Ok(None));
        assert!(parse_size("2X").is_err());
        assert!(parse_size("").is_err());
        assert!(parse_size("99999999999T").is_err());
        let c = Config::parse("[quota]\ndefault_storage = \"1M\"\n", Path::new("t")).unwrap();
        assert_eq!(c.quota.default_limits().storage, Some(1 << 20));
        assert!(Config::parse("[quota]\ndefault_storage = \"lots\"\n", Path::new("t")).is_err());
    }

    #[test]
    fn spam_and_virus_headers_are_checked_at_load() {
        let c = Config::parse(
            "[sieve]\nspamtest_header = \"X-Spam-Status: score=(-?[0-9.]+)\"\nspamtest_max = 5.0\n",
            Path::new("t"),
        )
        .unwrap();
        let h = c.sieve.spamtest().unwrap().unwrap();
        assert_eq!(h.header, "X-Spam-Status");
        assert_eq!(h.fraction("Yes, score=2.5 required=5.0"), Some(0.5));
        assert_eq!(c.sieve.virustest().unwrap().map(|h| h.header), None);
        let err = Config::parse("[sieve]\nspamtest_header = \"X-Spam: (\"\n", Path::new("t")).unwrap_err();
        assert!(format!("{err:#}").contains("sieve.spamtest_header"), "{err:#}");
        let err = Config::parse("[sieve]\nspamtest_header = \"X\"\nspamtest_max = 0.0\n", Path::new("t")).unwrap_err();
        assert!(format!("{err:#}").contains("range"), "{err:#}");
        let err =
            Config::parse("[sieve]\nvirustest_header = \"X-Virus\"\nvirustest_values = [\"ok\"]\n", Path::new("t"))
                .unwrap_err();
        assert!(format!("{err:#}").contains("5 words"), "{err:#}");
    }

    #[test]
    fn workers_are_bounded() {
        assert_eq!(Config::default().server.workers, 1);
        let c = Config::parse("[server]\nworkers = 4\n", Path::new("t")).unwrap();
        assert_eq!(c.server.workers, 4);
        for bad in ["0", "65"] {
            let err = Config::parse(&format!("[server]\nworkers = {bad}\n"), Path::new("t")).unwrap_err();
            assert!(format!("{err:#}").contains("server.workers"), "{err:#}");
        }
    }

    #[test]
    fn none_disables_a_listener() {
        let c = Config::parse("[listen]\nimap = \"none\"\n", Path::new("t")).unwrap();
        assert_eq!(c.listen.imap, None);
        assert_eq!(c.listen.imaps, Listen::default().imaps);
        let c = Config::parse("[listen]\nimaps = \"NONE\"\nimap = \"[::1]:143\"\n", Path::new("t")).unwrap();
        assert_eq!(c.listen.imaps, None);
        assert_eq!(c.listen.imap, Some("[::1]:143".parse().unwrap()));
        assert_eq!(parse_listen_addr("none"), Ok(None));
        assert!(parse_listen_addr("localhost").unwrap_err().contains("invalid listen address"));
        // `none` survives a round trip through the file format.
        let mut c = Config::default();
        c.listen.imap = None;
        let text = toml::to_string(&c).unwrap();
        assert!(text.contains("imap = \"none\""), "{text}");
        assert_eq!(Config::parse(&text, Path::new("t")).unwrap(), c);
    }

    #[test]
    fn unknown_key_is_rejected() {
        let err = Config::parse("[limits]\nmax_line_lenght = 10\n", Path::new("/etc/p.toml")).unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains("/etc/p.toml"), "{msg}");
        assert!(msg.contains("unknown field `max_line_lenght`"), "{msg}");
        let err = Config::parse("[listn]\n", Path::new("t")).unwrap_err();
        assert!(format!("{err:#}").contains("unknown field `listn`"));
    }

    #[test]
    fn bad_address_is_rejected() {
        let err = Config::parse("[listen]\nimap = \"127.0.0.1\"\n", Path::new("t")).unwrap_err();
        assert!(format!("{err:#}").contains("invalid listen address"), "{err:#}");
    }

    #[test]
    fn cert_without_key_is_rejected() {
        let err = Config::parse("[tls]\ncert = \"c.pem\"\n", Path::new("t")).unwrap_err();
        assert!(format!("{err:#}").contains("set both or neither"));
    }

    #[test]
    fn load_or_init_writes_the_file_once() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let path = data.join(FILE_NAME);
        assert_eq!(Config::load_or_init(&data, &path).unwrap(), Config::default());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), Config::commented_default());
        std::fs::write(&path, "[auth]\nallow_plaintext = true\n").unwrap();
        assert!(Config::load_or_init(&data, &path).unwrap().auth.allow_plaintext);
    }
}
