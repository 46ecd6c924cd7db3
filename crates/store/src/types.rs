//! Domain types shared by the store's API and its callers.

/// Row id of an account in `directory.sqlite`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId(pub i64);

/// Row id of a mailbox inside its account's database. Never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MailboxId(pub i64);

/// System flags as a bit set, keywords by name (case preserved, compared
/// case-insensitively as RFC 9051 §2.3.2 asks).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flags {
    pub system: u8,
    /// Sorted, deduplicated (case-insensitively).
    pub keywords: Vec<String>,
}

impl Flags {
    pub const SEEN: u8 = 1;
    pub const ANSWERED: u8 = 2;
    pub const FLAGGED: u8 = 4;
    pub const DELETED: u8 = 8;
    pub const DRAFT: u8 = 16;

    pub fn has(&self, bit: u8) -> bool {
        self.system & bit != 0
    }

    pub fn has_keyword(&self, k: &str) -> bool {
        self.keywords.iter().any(|x| x.eq_ignore_ascii_case(k))
    }

    /// Sorts and deduplicates keywords (case-insensitively, first spelling wins).
    pub fn normalize(&mut self) {
        let mut out: Vec<String> = Vec::with_capacity(self.keywords.len());
        for k in self.keywords.drain(..) {
            if !out.iter().any(|x| x.eq_ignore_ascii_case(&k)) {
                out.push(k);
            }
        }
        out.sort_by_key(|k| k.to_ascii_lowercase());
        self.keywords = out;
    }
}

/// How a STORE changes flags (RFC 9051 §6.4.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagOp {
    Replace,
    Add,
    Remove,
}

/// A mailbox as listed (RFC 9051 §6.3.9 needs names, special use, subscription).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxInfo {
    pub id: MailboxId,
    /// Full UTF-8 name with `/` as the hierarchy separator; `INBOX` is spelled so.
    pub name: String,
    pub uid_validity: u32,
    pub uid_next: u32,
    pub highest_modseq: u64,
    /// `\Sent`, `\Drafts`, `\Trash`, `\Junk`, `\Archive`, `\All`, `\Flagged` (RFC 6154).
    pub special_use: Option<String>,
    /// RFC 8474 MAILBOXID (`F` + 24 hex digits): kept by RENAME, never reused.
    pub object_id: String,
}

/// Counts for STATUS and SELECT (RFC 9051 §6.3.11).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailboxStatus {
    pub messages: u32,
    pub unseen: u32,
    pub deleted: u32,
    /// Sum of RFC822.SIZE of all messages (RFC 8438 STATUS=SIZE).
    pub size: u64,
    pub uid_next: u32,
    pub uid_validity: u32,
    pub highest_modseq: u64,
    /// Sum of RFC822.SIZE of the messages flagged `\Deleted` (RFC 9208 DELETED-STORAGE).
    pub deleted_size: u64,
    /// Messages no read-write IMAP4rev1 session has been told of yet
    /// (RFC 3501 §2.3.2 `\Recent`; see [`crate::Account::recent`]).
    pub recent: u32,
}

/// What is known of a message without reading its bytes: enough for a
/// selected view (UID, flags, MODSEQ).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageSummary {
    pub uid: u32,
    pub modseq: u64,
    pub flags: Flags,
}

/// Everything computed once at delivery, so FETCH never re-parses for these
/// (DESIGN.md §2 `message_meta`). The IMAP layer computes the encoded forms;
/// the store keeps them as opaque bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageMeta {
    /// Encoded IMAP `envelope`.
    pub envelope: Vec<u8>,
    /// Encoded IMAP `body` (extensible, for BODYSTRUCTURE).
    pub bodystructure: Vec<u8>,
    /// Encoded IMAP `body` (non-extensible, for BODY).
    pub body: Vec<u8>,
    /// Sort/search keys (decoded, UTF-8).
    pub subject: String,
    pub from: String,
    pub to: String,
    pub cc: String,
    /// `Date:` header as Unix seconds, if parseable.
    pub sent_date: Option<i64>,
    pub message_id: String,
    /// Message-IDs named by `In-Reply-To` and `References` (without angle
    /// brackets), nearest parent first: In-Reply-To, then References from
    /// last to first, deduplicated. THREADID is taken from the first of
    /// them found in the account (RFC 8474 §5.2).
    pub references: Vec<String>,
    /// RFC 5256 §3 SORT keys: the `addr-mailbox` of the first From, To and
    /// Cc address (raw, not case-folded; empty when absent).
    pub from_mailbox: String,
    pub to_mailbox: String,
    pub cc_mailbox: String,
    /// RFC 5957 §3 DISPLAY sort value of the first From and To address:
    /// the decoded display name, else `mailbox@host`, else the mailbox.
    pub display_from: String,
    pub display_to: String,
    /// RFC 5256 §4 REFERENCES: the message's references, normalized Message
    /// IDs (no angle brackets, quoting removed) separated by spaces: those
    /// of `References`, else the first of `In-Reply-To`.
    pub thread_refs: String,
    /// RFC 8970 PREVIEW text (at most 256 characters; empty when the message
    /// has no readable text). `None`: not computed yet (stored before PREVIEW).
    pub preview: Option<String>,
    /// The message's document for the full-text index (issue #7), computed
    /// at delivery; `None` leaves the message unindexed (SEARCH then always
    /// checks it). Not read back from the store.
    pub text: Option<crate::TextDoc>,
    /// The string SORT keys (issue #6), computed at delivery like `text`;
    /// `None` stores the message without keys (SORT then computes them on
    /// first use). Not read back from the store.
    pub sort: Option<crate::SortKeys>,
}

/// The large columns of a message a FETCH needs ([`crate::Account::fetch_records`]);
/// those not wanted come back empty.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FetchParts {
    pub envelope: bool,
    pub bodystructure: bool,
    /// The non-extensible BODY.
    pub body: bool,
    /// EMAILID, THREADID and SAVEDATE.
    pub ids: bool,
    /// The search and sort keys (subject, addresses, sent date, Message-ID,
    /// references): what SEARCH, SORT and THREAD read instead of ENVELOPE.
    pub keys: bool,
}

/// A message row borrowed from SQLite for the length of one call of the
/// visitor given to [`crate::Account::visit_records`]: what FETCH encodes
/// straight into its response bytes, without building a [`MessageRecord`].
/// The large columns not asked for in [`FetchParts`] are empty.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordRef<'a> {
    pub uid: u32,
    pub modseq: u64,
    /// The system flag bits ([`Flags::SEEN`]…).
    pub system_flags: u8,
    /// Keywords, space-separated (empty: none).
    pub keywords: &'a str,
    /// Unix seconds and the client's zone offset in minutes.
    pub internal_date: i64,
    pub internal_date_zone: i16,
    pub size: u64,
    pub envelope: &'a [u8],
    pub bodystructure: &'a [u8],
    pub body: &'a [u8],
}

impl RecordRef<'_> {
    pub fn flags(&self) -> Flags {
        Flags { system: self.system_flags, keywords: keywords_from_text(self.keywords) }
    }
}

/// The stored keyword text (space-separated) → keywords.
pub(crate) fn keywords_from_text(s: &str) -> Vec<String> {
    s.split(' ').filter(|k| !k.is_empty()).map(str::to_string).collect()
}

/// Where [`crate::Account::deliver`] stored a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub mailbox: MailboxId,
    /// The mailbox asked for does not exist: stored in INBOX.
    pub fell_back: bool,
    pub uid: u32,
    /// The mailbox's MODSEQ after this change.
    pub modseq: u64,
    /// Usage before and after, when the account has limits.
    pub usage: Option<UsageChange>,
}

/// A message row with its stored metadata (for FETCH and SEARCH).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRecord {
    pub uid: u32,
    pub modseq: u64,
    pub flags: Flags,
    /// Unix seconds and the client's zone offset in minutes.
    pub internal_date: i64,
    pub internal_date_zone: i16,
    /// RFC822.SIZE: prefix + blob.
    pub size: u64,
    pub blob: crate::BlobId,
    /// Per-recipient trace headers served before the blob (DESIGN.md §2).
    pub prefix: Vec<u8>,
    pub meta: MessageMeta,
    /// RFC 8474 EMAILID (`M` + 24 hex digits): set at APPEND/delivery, the
    /// same for every copy made by COPY/MOVE.
    pub email_id: String,
    /// RFC 8474 THREADID (`T` + 24 hex digits): shared by a message and the
    /// replies to it, copied by COPY/MOVE.
    pub thread_id: String,
    /// RFC 8514 save date, Unix seconds: when the message was saved into this
    /// mailbox (APPEND, delivery, COPY, MOVE).
    pub save_date: i64,
}

/// A new message for [`crate::Account::append`]. The blob must already be
/// written (and fsynced) with [`crate::BlobStore::write`].
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub blob: crate::BlobId,
    pub size: u64,
    pub prefix: Vec<u8>,
    pub flags: Flags,
    pub internal_date: i64,
    pub internal_date_zone: i16,
    pub meta: MessageMeta,
}

/// What changed in a mailbox after a given MODSEQ (DESIGN.md §3).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Messages with `modseq > since`, ascending by UID (new ones and flag changes).
    pub changed: Vec<MessageSummary>,
    /// UIDs whose tombstones have `modseq > since`, ascending.
    pub expunged: Vec<u32>,
    pub highest_modseq: u64,
    /// Tombstones up to this MODSEQ may have been pruned. When `since` is
    /// below it, `expunged` may be incomplete and the caller must fall back to
    /// comparing UID sets (RFC 7162 §3.2.5.2 allows reporting more UIDs).
    pub tombstone_floor: u64,
}

/// Published on an account's change feed after a transaction commits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Messages in this mailbox were added, changed or expunged, up to `modseq`.
    Mailbox { mailbox: MailboxId, modseq: u64 },
    /// Mailboxes were created, deleted, renamed, or subscriptions changed.
    MailboxList,
    /// METADATA entries (RFC 5464) were set or removed on a mailbox, or on
    /// the server (`mailbox: None`). `origin` is the writer's token, so that a
    /// session does not tell its own changes back to itself (RFC 5465 §5).
    Metadata { mailbox: Option<MailboxId>, entries: Vec<String>, origin: u64 },
}

/// Result of COPY/MOVE (RFC 4315 COPYUID).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyResult {
    pub uid_validity: u32,
    /// `(source uid, destination uid)` in ascending source order.
    pub mapping: Vec<(u32, u32)>,
}

/// An account as listed by `postfach user list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountInfo {
    pub id: AccountId,
    pub name: String,
}

/// An address assigned to an account (`postfach address list`). A catch-all
/// is spelled `@domain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressInfo {
    pub address: String,
    pub account: String,
}

/// Where a delivery address leads (see [`crate::Store::resolve_recipient`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub account: AccountId,
    /// The account's login name.
    pub name: String,
    /// The detail of `local+detail@domain` (RFC 5233 subaddress), for Sieve.
    pub detail: Option<String>,
}

/// An account's quota limits (RFC 9208 STORAGE in octets and MESSAGE);
/// `None` is unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QuotaLimits {
    pub storage: Option<u64>,
    pub messages: Option<u64>,
}

/// What an account uses: the sum of RFC822.SIZE and the number of messages
/// over all its mailboxes (messages flagged `\Deleted` count until expunged).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QuotaUsage {
    pub storage: u64,
    pub messages: u64,
}

/// Usage just before and just after a write, read inside its transaction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UsageChange {
    pub before: QuotaUsage,
    pub after: QuotaUsage,
}

/// One account's quota settings (`postfach quota list`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaInfo {
    pub id: AccountId,
    pub name: String,
    pub limits: QuotaLimits,
    /// A usage warning was delivered and usage has not fallen below the threshold since.
    pub warned: bool,
}

impl QuotaLimits {
    pub fn is_unlimited(&self) -> bool {
        self.storage.is_none() && self.messages.is_none()
    }

    /// The first resource (`"STORAGE"`, `"MESSAGE"`) that `usage` exceeds.
    pub fn exceeded(&self, usage: &QuotaUsage) -> Option<&'static str> {
        if self.storage.is_some_and(|l| usage.storage > l) {
            Some("STORAGE")
        } else if self.messages.is_some_and(|l| usage.messages > l) {
            Some("MESSAGE")
        } else {
            None
        }
    }

    /// The resource that adding `bytes` in `count` messages to `usage` would
    /// take over its limit.
    pub fn refuses(&self, usage: &QuotaUsage, bytes: u64, count: u64) -> Option<&'static str> {
        let after =
            QuotaUsage { storage: usage.storage.saturating_add(bytes), messages: usage.messages.saturating_add(count) };
        let over = self.exceeded(&after)?;
        // Adding nothing of a resource never fails on it.
        match over {
            "STORAGE" if bytes == 0 => None,
            "MESSAGE" if count == 0 => None,
            r => Some(r),
        }
    }

    /// True when `usage` is at or above `percent` % of some limit.
    pub fn above_percent(&self, usage: &QuotaUsage, percent: u8) -> bool {
        let p = u128::from(percent);
        let at = |used: u64, limit: Option<u64>| limit.is_some_and(|l| u128::from(used) * 100 >= u128::from(l) * p);
        percent > 0 && (at(usage.storage, self.storage) || at(usage.messages, self.messages))
    }
}
