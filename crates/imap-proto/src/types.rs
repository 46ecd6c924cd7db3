//! The typed form of what crosses the wire: commands a client sends (parsed by
//! [`crate::parser`]) and responses the server sends (encoded by [`crate::encoder`]).
//!
//! Names follow the RFC 9051 grammar (§9). Values that reach these types have
//! been validated by the parser: a `Tag` is a valid tag, a `SequenceSet` is
//! non-empty, a `Uid`/sequence number is non-zero.

use std::fmt;
use std::path::PathBuf;

/// `tag = 1*<any ASTRING-CHAR except "+">` (RFC 9051 §9).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Tag(String);

impl Tag {
    /// Validates a tag as the grammar defines it.
    pub fn new(s: &str) -> Option<Tag> {
        if !s.is_empty() && s.bytes().all(|b| crate::parser::is_astring_char(b) && b != b'+') {
            Some(Tag(s.to_string()))
        } else {
            None
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tag({})", self.0)
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A secret (password, SASL response). Its `Debug` output never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T>(pub T);

impl<T> Secret<T> {
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("/* REDACTED */")
    }
}

/// The bytes of a literal as the connection collected them. Large literals
/// (APPEND messages) are spooled to a file by the connection, which owns the
/// file's lifetime; the codec only carries its path.
#[derive(Clone, PartialEq, Eq)]
pub enum Literal {
    Memory(Vec<u8>),
    File { path: PathBuf, len: u64 },
}

impl Literal {
    pub fn len(&self) -> u64 {
        match self {
            Literal::Memory(v) => v.len() as u64,
            Literal::File { len, .. } => *len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Debug for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Memory(v) => write!(f, "Literal::Memory({} bytes)", v.len()),
            Literal::File { path, len } => write!(f, "Literal::File({}, {len} bytes)", path.display()),
        }
    }
}

/// One piece of a command as framed by the connection: a line (without its
/// CRLF; when a literal follows, the line ends with the `{N}`/`{N+}`/`~{N}`
/// marker) or the literal's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fragment {
    Line(Vec<u8>),
    Literal(Literal),
}

/// `literal = "{" number64 ["+"] "}" CRLF *CHAR8` (RFC 9051 §9, RFC 7888 §3,
/// RFC 3516 `literal8 = "~{" number64 "}"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiteralHeader {
    pub len: u64,
    /// `false` for LITERAL+ / LITERAL- (`{N+}`): no continuation request is sent.
    pub sync: bool,
    /// `~{N}`: a literal8 (may contain NUL), allowed only in APPEND with BINARY.
    pub binary: bool,
}

/// A complete command: `command = tag SP (command-any / command-auth /
/// command-nonauth / command-select) CRLF`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub tag: Tag,
    pub body: CommandBody,
}

/// Every command postfach parses. Each variant names its RFC section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandBody {
    /// RFC 9051 §6.1.1
    Capability,
    /// RFC 9051 §6.1.2
    Noop,
    /// RFC 9051 §6.1.3
    Logout,
    /// RFC 9051 §6.2.1
    StartTls,
    /// RFC 9051 §6.2.2; RFC 4959 (SASL-IR). `initial_response` is the decoded
    /// base64 (`=` decodes to an empty response).
    Authenticate { mechanism: String, initial_response: Option<Secret<Vec<u8>>> },
    /// RFC 9051 §6.2.3
    Login { username: String, password: Secret<String> },
    /// RFC 9051 §6.3.1; RFC 5161
    Enable { capabilities: Vec<String> },
    /// RFC 9051 §6.3.2 (SELECT) and §6.3.3 (EXAMINE when `read_only`)
    Select { mailbox: MailboxName, read_only: bool, params: SelectParams },
    /// RFC 9051 §6.3.4; RFC 6154 §3 (`USE (…)`)
    Create { mailbox: MailboxName, special_use: Vec<String> },
    /// RFC 9051 §6.3.5
    Delete { mailbox: MailboxName },
    /// RFC 9051 §6.3.6
    Rename { from: MailboxName, to: MailboxName },
    /// RFC 9051 §6.3.7
    Subscribe { mailbox: MailboxName },
    /// RFC 9051 §6.3.8
    Unsubscribe { mailbox: MailboxName },
    /// RFC 9051 §6.3.9; RFC 5258 (LIST-EXTENDED); RFC 5819 (LIST-STATUS)
    List(ListCommand),
    /// RFC 3501 §6.3.9
    Lsub { reference: MailboxName, pattern: MailboxName },
    /// RFC 9051 §6.3.10; RFC 2342
    Namespace,
    /// RFC 9051 §6.3.11
    Status { mailbox: MailboxName, items: Vec<StatusItem> },
    /// RFC 9051 §6.3.12; RFC 3502 (MULTIAPPEND: more than one message)
    Append { mailbox: MailboxName, messages: Vec<AppendMessage> },
    /// RFC 8508 §3.2, §3.3 `replace = "REPLACE" SP seq-number SP mailbox append-message`,
    /// `uid =/ "UID" SP replace` (`target` is then a UID).
    Replace { uid: bool, target: SeqNum, mailbox: MailboxName, message: AppendMessage },
    /// RFC 9051 §6.3.13; RFC 2177
    Idle,
    /// RFC 3501 §6.4.1
    Check,
    /// RFC 9051 §6.4.1
    Close,
    /// RFC 9051 §6.4.2; RFC 3691
    Unselect,
    /// RFC 9051 §6.4.3
    Expunge,
    /// RFC 9051 §6.4.9; RFC 4315 §2.1
    UidExpunge { set: SequenceSet },
    /// RFC 9051 §6.4.4; RFC 4731 (ESEARCH return options); RFC 5182 (SAVE)
    Search { uid: bool, charset: Option<String>, ret: Option<Vec<SearchReturn>>, criteria: SearchKey },
    /// RFC 9051 §6.4.5; RFC 7162 §3.1.4 (CHANGEDSINCE), §3.2.6 (VANISHED, UID FETCH only);
    /// RFC 9394 §3.3 (PARTIAL, UID FETCH only)
    Fetch {
        uid: bool,
        set: SequenceSet,
        items: Vec<FetchAttr>,
        changed_since: Option<u64>,
        vanished: bool,
        partial: Option<PartialRange>,
    },
    /// RFC 9051 §6.4.6; RFC 7162 §3.1.3 (UNCHANGEDSINCE)
    Store { uid: bool, set: SequenceSet, action: StoreAction, unchanged_since: Option<u64> },
    /// RFC 9051 §6.4.7
    Copy { uid: bool, set: SequenceSet, mailbox: MailboxName },
    /// RFC 9051 §6.4.8; RFC 6851
    Move { uid: bool, set: SequenceSet, mailbox: MailboxName },
    /// RFC 2971 §3.1. `None` is `ID NIL`.
    Id { params: Option<Vec<(String, Option<String>)>> },
    /// RFC 5465 §3.1 NOTIFY. `None` is `NOTIFY NONE`.
    Notify(Option<NotifySet>),
    /// RFC 4978 §3 `compress = "COMPRESS" SP algorithm`
    Compress { algorithm: String },
    /// RFC 8437 §3 UNAUTHENTICATE
    Unauthenticate,
    /// RFC 5256 §3 SORT / UID SORT; RFC 5957 DISPLAYFROM/DISPLAYTO; RFC 5267
    /// §3 ESORT (`ret`, `RETURN (…)` before the sort criteria).
    Sort { uid: bool, ret: Option<Vec<SearchReturn>>, criteria: Vec<SortCriterion>, charset: String, search: SearchKey },
    /// RFC 5256 §3 THREAD / UID THREAD.
    Thread { uid: bool, algorithm: ThreadAlgorithm, charset: String, search: SearchKey },
    /// RFC 9208 §4.2.1 `getquota = "GETQUOTA" SP quota-root-name`
    GetQuota { root: String },
    /// RFC 9208 §4.2.2 `getquotaroot = "GETQUOTAROOT" SP mailbox`
    GetQuotaRoot { mailbox: MailboxName },
    /// RFC 9208 §4.2.3 `setquota = "SETQUOTA" SP quota-root-name SP setquota-list`;
    /// resource names upper-cased.
    SetQuota { root: String, limits: Vec<(String, u64)> },
    /// RFC 5267 §4.3.5 `"CANCELUPDATE" 1*(SP quoted)`: the tags of the
    /// searching commands whose updates should stop.
    CancelUpdate { tags: Vec<String> },
    /// RFC 5464 §4.2 `getmetadata = "GETMETADATA" [SP getmetadata-options] SP mailbox SP entries`
    GetMetadata { mailbox: MailboxName, options: MetadataOptions, entries: Vec<String> },
    /// RFC 5464 §4.3 `setmetadata = "SETMETADATA" SP mailbox SP entry-values`;
    /// `None` is NIL (remove the entry).
    SetMetadata { mailbox: MailboxName, entries: Vec<(String, Option<Literal>)> },
}

/// RFC 5464 §4.2.1–4.2.2 GETMETADATA options (also the options of the
/// RFC 9590 LIST return option).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetadataOptions {
    /// `maxsize-opt = "MAXSIZE" SP number`: only values up to this many octets.
    pub max_size: Option<u64>,
    /// `scope-opt = "DEPTH" SP ("0" / "1" / "infinity")`.
    pub depth: MetadataDepth,
}

/// How far below a requested entry GETMETADATA looks (RFC 5464 §4.2.2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum MetadataDepth {
    /// The entry itself (the default).
    #[default]
    Zero,
    /// The entry and its children.
    One,
    /// The entry and everything below it.
    Infinity,
}

/// Checks an entry name (RFC 5464 §3.2): ASCII above 0x19, no `*` or `%`,
/// no `//`, no trailing `/`, first component `private` or `shared` (any
/// case), at least two components, at least four under `vendor`. With
/// `prefix_ok` (GETMETADATA), `/private` and `/shared` alone are accepted
/// as roots for DEPTH queries. Returns why the name is invalid.
pub fn check_metadata_entry(name: &str, prefix_ok: bool) -> Result<(), &'static str> {
    if !name.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err("entry names must be printable ASCII (RFC 5464 §3.2)");
    }
    if name.contains(['*', '%']) {
        return Err("entry names must not contain * or % (RFC 5464 §3.2)");
    }
    if name.contains("//") || name.ends_with('/') {
        return Err("entry names must not contain // or end with / (RFC 5464 §3.2)");
    }
    let lower = name.to_ascii_lowercase();
    let parts: Vec<&str> = lower.split('/').skip(1).collect();
    if !name.starts_with('/') || !matches!(parts.first(), Some(&("private" | "shared"))) {
        return Err("entry names start with /private or /shared (RFC 5464 §3.2)");
    }
    if parts.len() < 2 && !prefix_ok {
        return Err("entry names have at least two components (RFC 5464 §3.2)");
    }
    if parts.get(1) == Some(&"vendor") && parts.len() < 4 && !prefix_ok {
        return Err("vendor entry names have at least four components (RFC 5464 §3.2)");
    }
    Ok(())
}

/// `notify-set = "SET" [status-indicator] SP event-groups` (RFC 5465 §8)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifySet {
    /// `status-indicator`: send STATUS for the watched mailboxes at once.
    pub status: bool,
    pub groups: Vec<NotifyGroup>,
}

/// `event-group = "(" filter-mailboxes SP events ")"`; no events is `NONE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyGroup {
    pub filter: NotifyFilter,
    pub events: Vec<NotifyEvent>,
}

/// `filter-mailboxes` (RFC 5465 §6)
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifyFilter {
    Selected,
    SelectedDelayed,
    Inboxes,
    Personal,
    Subscribed,
    Subtree(Vec<MailboxName>),
    Mailboxes(Vec<MailboxName>),
}

/// `event` (RFC 5465 §5, §8). Names are case-insensitive on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifyEvent {
    /// With the fetch attributes to send for new messages in the selected mailbox.
    MessageNew(Vec<FetchAttr>),
    MessageExpunge,
    FlagChange,
    AnnotationChange,
    MailboxName,
    SubscriptionChange,
    MailboxMetadataChange,
    ServerMetadataChange,
    /// `event-ext = atom`
    Other(String),
}

impl CommandBody {
    /// The command's name as the client spelled it in the grammar, upper case
    /// (`"UID FETCH"` for the UID forms). Used in logs and error texts.
    pub fn name(&self) -> &'static str {
        use CommandBody::*;
        match self {
            Capability => "CAPABILITY",
            Noop => "NOOP",
            Logout => "LOGOUT",
            StartTls => "STARTTLS",
            Authenticate { .. } => "AUTHENTICATE",
            Login { .. } => "LOGIN",
            Enable { .. } => "ENABLE",
            Select { read_only: false, .. } => "SELECT",
            Select { read_only: true, .. } => "EXAMINE",
            Create { .. } => "CREATE",
            Delete { .. } => "DELETE",
            Rename { .. } => "RENAME",
            Subscribe { .. } => "SUBSCRIBE",
            Unsubscribe { .. } => "UNSUBSCRIBE",
            List(_) => "LIST",
            Lsub { .. } => "LSUB",
            Namespace => "NAMESPACE",
            Status { .. } => "STATUS",
            Append { .. } => "APPEND",
            Replace { uid: false, .. } => "REPLACE",
            Replace { uid: true, .. } => "UID REPLACE",
            Idle => "IDLE",
            Check => "CHECK",
            Close => "CLOSE",
            Unselect => "UNSELECT",
            Expunge => "EXPUNGE",
            UidExpunge { .. } => "UID EXPUNGE",
            Search { uid: false, .. } => "SEARCH",
            Search { uid: true, .. } => "UID SEARCH",
            Fetch { uid: false, .. } => "FETCH",
            Fetch { uid: true, .. } => "UID FETCH",
            Store { uid: false, .. } => "STORE",
            Store { uid: true, .. } => "UID STORE",
            Copy { uid: false, .. } => "COPY",
            Copy { uid: true, .. } => "UID COPY",
            Move { uid: false, .. } => "MOVE",
            Move { uid: true, .. } => "UID MOVE",
            Id { .. } => "ID",
            Notify(_) => "NOTIFY",
            Compress { .. } => "COMPRESS",
            Unauthenticate => "UNAUTHENTICATE",
            Sort { uid: false, .. } => "SORT",
            Sort { uid: true, .. } => "UID SORT",
            Thread { uid: false, .. } => "THREAD",
            Thread { uid: true, .. } => "UID THREAD",
            GetQuota { .. } => "GETQUOTA",
            CancelUpdate { .. } => "CANCELUPDATE",
            GetQuotaRoot { .. } => "GETQUOTAROOT",
            SetQuota { .. } => "SETQUOTA",
            GetMetadata { .. } => "GETMETADATA",
            SetMetadata { .. } => "SETMETADATA",
        }
    }
}

/// A mailbox argument exactly as sent (an astring, already unquoted). It is
/// modified UTF-7 unless the client enabled UTF8=ACCEPT; the session decodes
/// it with [`crate::utf7`]. `INBOX` is matched case-insensitively by the session.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MailboxName(pub String);

/// SELECT/EXAMINE parameters (RFC 4466 §2.1 `select-params`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SelectParams {
    /// RFC 7162 §3.1.8 `(CONDSTORE)`
    pub condstore: bool,
    /// RFC 7162 §3.2.5 `(QRESYNC (uidvalidity modseq [known-uids [seq-match-data]]))`
    pub qresync: Option<QresyncParams>,
}

/// `"QRESYNC" SP "(" uidvalidity SP mod-sequence-value [SP known-uids] [SP seq-match-data] ")"`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QresyncParams {
    pub uid_validity: u32,
    pub modseq: u64,
    /// UIDs the client knows; without it, every UID up to UIDNEXT.
    pub known_uids: Option<SequenceSet>,
    /// `seq-match-data = "(" known-sequence-set SP known-uid-set ")"`
    pub seq_match: Option<(SequenceSet, SequenceSet)>,
}

/// `list = "LIST" [SP list-select-opts] SP mailbox SP mbox-or-pat [SP list-return-opts]`
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListCommand {
    pub reference: MailboxName,
    /// One or more patterns (`"(" list-mailbox *(SP list-mailbox) ")"`).
    pub patterns: Vec<MailboxName>,
    pub select: ListSelect,
    pub ret: ListReturn,
    /// True when any selection or return option (even an empty list) was
    /// given, or several patterns: the client speaks LIST-EXTENDED.
    pub extended: bool,
}

impl Default for MailboxName {
    fn default() -> Self {
        MailboxName(String::new())
    }
}

/// RFC 5258 §3.1 selection options; RFC 6154 §3 SPECIAL-USE.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListSelect {
    pub subscribed: bool,
    pub remote: bool,
    pub recursive_match: bool,
    pub special_use: bool,
}

/// RFC 5258 §3.2 return options; RFC 5819 STATUS; RFC 6154 SPECIAL-USE.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListReturn {
    pub subscribed: bool,
    pub children: bool,
    pub special_use: bool,
    pub status: Option<Vec<StatusItem>>,
    /// RFC 9590 `METADATA (…)`: options and the entries to return per mailbox.
    pub metadata: Option<(MetadataOptions, Vec<String>)>,
}

/// `status-att` (RFC 9051 §6.3.11; RFC 7162 HIGHESTMODSEQ; RFC 8438 SIZE;
/// RFC 8474 MAILBOXID).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusItem {
    Messages,
    Recent,
    UidNext,
    UidValidity,
    Unseen,
    Deleted,
    Size,
    HighestModSeq,
    /// RFC 8474 §4.2; its value is a string, sent in [`Data::StatusWithMailboxId`].
    MailboxId,
    /// RFC 9208 §4.1.4
    DeletedStorage,
    /// RFC 7889 §3.1 `status-att =/ "APPENDLIMIT"`
    AppendLimit,
}

impl StatusItem {
    pub fn as_str(self) -> &'static str {
        match self {
            StatusItem::Messages => "MESSAGES",
            StatusItem::Recent => "RECENT",
            StatusItem::UidNext => "UIDNEXT",
            StatusItem::UidValidity => "UIDVALIDITY",
            StatusItem::Unseen => "UNSEEN",
            StatusItem::Deleted => "DELETED",
            StatusItem::Size => "SIZE",
            StatusItem::HighestModSeq => "HIGHESTMODSEQ",
            StatusItem::MailboxId => "MAILBOXID",
            StatusItem::DeletedStorage => "DELETED-STORAGE",
            StatusItem::AppendLimit => "APPENDLIMIT",
        }
    }
}

/// One message of an APPEND: `[SP flag-list] [SP date-time] SP literal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendMessage {
    pub flags: Vec<Flag>,
    pub date: Option<DateTime>,
    pub data: Literal,
    /// Sent as `~{N}` literal8 (RFC 3516 §4.4).
    pub binary: bool,
    /// RFC 6855 §4 `"UTF8" SP "(" literal8 ")"`: a message with UTF-8 headers.
    pub utf8: bool,
    /// RFC 4469 §5 `"CATENATE" SP "(" cat-part *(SP cat-part) ")"`: the parts
    /// the message is joined from, in order (`data` is then empty).
    pub catenate: Option<Vec<CatPart>>,
}

/// RFC 4469 §5 `cat-part = text-literal / url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatPart {
    /// `text-literal = "TEXT" SP literal` (a literal8 with BINARY, RFC 3516).
    Text { data: Literal, binary: bool },
    /// `url = "URL" SP astring`: an IMAP URL (RFC 5092), as sent.
    Url(String),
}

/// A message flag (`flag` in RFC 9051 §9). System flags are matched
/// case-insensitively; keywords keep the client's spelling.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Flag {
    Seen,
    Answered,
    Flagged,
    Deleted,
    Draft,
    /// `\Recent` (IMAP4rev1 only; never stored by clients).
    Recent,
    /// `flag-keyword = "$MDNSent" / "$Forwarded" / … / atom`
    Keyword(String),
    /// `flag-extension = "\" atom` other than the system flags.
    Extension(String),
}

impl Flag {
    /// Parses one flag's text (`\Seen`, `$Junk`, `foo`); `None` for an empty or
    /// invalid atom.
    pub fn parse(s: &str) -> Option<Flag> {
        if let Some(rest) = s.strip_prefix('\\') {
            if rest.is_empty() || !rest.bytes().all(crate::parser::is_atom_char) {
                return None;
            }
            Some(match rest.to_ascii_lowercase().as_str() {
                "seen" => Flag::Seen,
                "answered" => Flag::Answered,
                "flagged" => Flag::Flagged,
                "deleted" => Flag::Deleted,
                "draft" => Flag::Draft,
                "recent" => Flag::Recent,
                _ => Flag::Extension(rest.to_string()),
            })
        } else if !s.is_empty() && s.bytes().all(crate::parser::is_atom_char) {
            Some(Flag::Keyword(s.to_string()))
        } else {
            None
        }
    }

    pub fn as_str(&self) -> std::borrow::Cow<'_, str> {
        use std::borrow::Cow;
        match self {
            Flag::Seen => Cow::Borrowed("\\Seen"),
            Flag::Answered => Cow::Borrowed("\\Answered"),
            Flag::Flagged => Cow::Borrowed("\\Flagged"),
            Flag::Deleted => Cow::Borrowed("\\Deleted"),
            Flag::Draft => Cow::Borrowed("\\Draft"),
            Flag::Recent => Cow::Borrowed("\\Recent"),
            Flag::Keyword(k) => Cow::Borrowed(k.as_str()),
            Flag::Extension(e) => Cow::Owned(format!("\\{e}")),
        }
    }
}

/// `date = date-text / DQUOTE date-text DQUOTE`; `date-text = date-day "-" date-month "-" date-year`
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: u16,
    /// 1..=12
    pub month: u8,
    /// 1..=31
    pub day: u8,
}

/// `date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateTime {
    pub date: Date,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    /// Offset from UTC in minutes (`zone = ("+" / "-") 4DIGIT`).
    pub zone_minutes: i16,
}

/// One end of a range in a sequence set: a number or `*` (the largest in use).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SeqNum {
    Value(u32),
    Largest,
}

/// `sequence-set = (seq-number / seq-range) ["," sequence-set]`, or `$`
/// (RFC 5182 `seq-last-command`). Never empty; values are non-zero.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SequenceSet {
    Ranges(Vec<(SeqNum, SeqNum)>),
    /// `$`: the result saved by an earlier `SEARCH RETURN (SAVE)`.
    Saved,
}

impl SequenceSet {
    /// Whether `n` lies in the set, given the largest number in use (what `*` means).
    /// `Saved` contains nothing here: the session substitutes the saved set first.
    pub fn contains(&self, n: u32, largest: u32) -> bool {
        match self {
            SequenceSet::Saved => false,
            SequenceSet::Ranges(ranges) => ranges.iter().any(|&(a, b)| {
                let a = resolve(a, largest);
                let b = resolve(b, largest);
                let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
                (lo..=hi).contains(&n)
            }),
        }
    }

    /// Builds a set from sorted or unsorted numbers, merging runs into ranges.
    pub fn from_numbers(mut nums: Vec<u32>) -> Option<SequenceSet> {
        nums.sort_unstable();
        nums.dedup();
        let mut ranges: Vec<(SeqNum, SeqNum)> = Vec::new();
        let mut iter = nums.into_iter().filter(|&n| n != 0);
        let first = iter.next()?;
        let (mut lo, mut hi) = (first, first);
        for n in iter {
            if n == hi + 1 {
                hi = n;
            } else {
                ranges.push((SeqNum::Value(lo), SeqNum::Value(hi)));
                lo = n;
                hi = n;
            }
        }
        ranges.push((SeqNum::Value(lo), SeqNum::Value(hi)));
        Some(SequenceSet::Ranges(ranges))
    }
}

fn resolve(n: SeqNum, largest: u32) -> u32 {
    match n {
        SeqNum::Value(v) => v,
        SeqNum::Largest => largest,
    }
}

/// `search-key` (RFC 9051 §6.4.4, RFC 3501 §6.4.4 for the IMAP4rev1-only
/// keys NEW, OLD, RECENT; RFC 7162 §3.1.5 MODSEQ; RFC 5032 OLDER/YOUNGER).
/// Strings are decoded as UTF-8 (the session rejects other charsets first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchKey {
    All,
    Answered,
    Bcc(String),
    Before(Date),
    Body(String),
    Cc(String),
    Deleted,
    Draft,
    Flagged,
    From(String),
    Header(String, String),
    Keyword(String),
    Larger(u64),
    New,
    Not(Box<SearchKey>),
    Old,
    On(Date),
    Or(Box<SearchKey>, Box<SearchKey>),
    Recent,
    Seen,
    SentBefore(Date),
    SentOn(Date),
    SentSince(Date),
    Since(Date),
    Smaller(u64),
    Subject(String),
    Text(String),
    To(String),
    Uid(SequenceSet),
    Unanswered,
    Undeleted,
    Undraft,
    Unflagged,
    Unkeyword(String),
    Unseen,
    /// A bare sequence set (message sequence numbers).
    SequenceSet(SequenceSet),
    /// `"(" search-key *(SP search-key) ")"`, and the top-level list of keys.
    And(Vec<SearchKey>),
    /// RFC 7162 §3.1.5 `MODSEQ [entry-name entry-type-req] mod-sequence-valzer`
    ModSeq(u64),
    /// RFC 5032 `OLDER n` (seconds)
    Older(u64),
    /// RFC 5032 `YOUNGER n` (seconds)
    Younger(u64),
    /// RFC 8474 §6 `EMAILID objectid`
    EmailId(String),
    /// RFC 8474 §6 `THREADID objectid`
    ThreadId(String),
    /// RFC 8514 §4.3 `SAVEDBEFORE date`
    SavedBefore(Date),
    /// RFC 8514 §4.3 `SAVEDON date`
    SavedOn(Date),
    /// RFC 8514 §4.3 `SAVEDSINCE date`
    SavedSince(Date),
    /// RFC 8514 §4.3 `SAVEDATESUPPORTED`
    SaveDateSupported,
}

/// `search-return-opt` (RFC 4731 §3.1, RFC 5182 SAVE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SearchReturn {
    Min,
    Max,
    All,
    Count,
    Save,
    /// RFC 9394 `PARTIAL partial-range` (RFC 5267 §4.4 for SORT).
    Partial(PartialRange),
    /// RFC 5267 §4.3 `modifier-update = "UPDATE"`: keep the result up to date
    /// with ADDTO/REMOVEFROM.
    Update,
    /// RFC 5267 §4.2 `modifier-context = "CONTEXT"`: a hint only.
    Context,
}

/// `section-spec` / `section-part` / `section-text` (RFC 9051 §6.4.5).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Section {
    /// `section-part = nz-number *("." nz-number)`; empty for the whole message.
    pub part: Vec<u32>,
    pub text: Option<SectionText>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SectionText {
    Header,
    /// `HEADER.FIELDS` / `HEADER.FIELDS.NOT` with their header names as sent.
    HeaderFields {
        not: bool,
        fields: Vec<String>,
    },
    Text,
    /// Only after a part number.
    Mime,
}

/// `fetch-att` (RFC 9051 §6.4.5; RFC 3501 RFC822.*; RFC 3516 BINARY;
/// RFC 7162 MODSEQ). Macros (ALL, FAST, FULL) are expanded by the parser.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FetchAttr {
    Envelope,
    Flags,
    InternalDate,
    Rfc822Size,
    /// `BODY` without a section: the non-extensible BODYSTRUCTURE.
    Body,
    BodyStructure,
    Uid,
    /// `BODY[section]<partial>` / `BODY.PEEK[…]`. `partial` is `(offset, count)`.
    BodySection {
        peek: bool,
        section: Section,
        partial: Option<(u32, u32)>,
    },
    /// `BINARY[part]<partial>` / `BINARY.PEEK[…]`
    Binary {
        peek: bool,
        part: Vec<u32>,
        partial: Option<(u32, u32)>,
    },
    /// `BINARY.SIZE[part]`
    BinarySize {
        part: Vec<u32>,
    },
    /// RFC 3501 `RFC822` (= BODY[]), `RFC822.HEADER` (= BODY.PEEK[HEADER]),
    /// `RFC822.TEXT` (= BODY[TEXT]); answered under their own names.
    Rfc822,
    Rfc822Header,
    Rfc822Text,
    ModSeq,
    /// RFC 8474 §5.3 `EMAILID`
    EmailId,
    /// RFC 8474 §5.3 `THREADID`
    ThreadId,
    /// RFC 8514 §4.2 `SAVEDATE`
    SaveDate,
    /// RFC 8970 §3.1 `PREVIEW`, §4.1 `PREVIEW (LAZY)`
    Preview {
        lazy: bool,
    },
}

/// `store-att-flags = (["+" / "-"] "FLAGS" [".SILENT"]) SP (flag-list / (flag *(SP flag)))`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreAction {
    pub mode: StoreMode,
    pub silent: bool,
    pub flags: Vec<Flag>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreMode {
    Replace,
    Add,
    Remove,
}

// ---------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------

/// A response the server sends (RFC 9051 §7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// Tagged or untagged `OK`/`NO`/`BAD`, untagged `PREAUTH`/`BYE`.
    Status {
        tag: Option<Tag>,
        kind: StatusKind,
        code: Option<Code>,
        text: String,
    },
    /// `continue-req = "+" SP (resp-text / base64) CRLF`
    Continue {
        text: String,
    },
    Data(Data),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusKind {
    Ok,
    No,
    Bad,
    PreAuth,
    Bye,
}

/// `resp-text-code` (RFC 9051 §7.1, RFC 5530, RFC 4315, RFC 7162, RFC 9208).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Code {
    Alert,
    AlreadyExists,
    AppendUid {
        uid_validity: u32,
        uids: SequenceSet,
    },
    AuthenticationFailed,
    AuthorizationFailed,
    BadCharset(Vec<String>),
    Cannot,
    Capability(Vec<String>),
    ClientBug,
    Closed,
    /// RFC 4978 §3
    CompressionActive,
    ContactAdmin,
    CopyUid {
        uid_validity: u32,
        source: SequenceSet,
        dest: SequenceSet,
    },
    Corruption,
    Expired,
    ExpungeIssued,
    HasChildren,
    HighestModSeq(u64),
    InUse,
    Limit,
    /// RFC 8474 §4.1 `MAILBOXID (objectid)`
    MailboxId(String),
    Modified(SequenceSet),
    NoModSeq,
    Nonexistent,
    NoPerm,
    NotSaved,
    OverQuota,
    Parse,
    /// `\*` is written as `Flag::Extension("*")`.
    PermanentFlags(Vec<Flag>),
    PrivacyRequired,
    ReadOnly,
    ReadWrite,
    ServerBug,
    TooBig,
    TryCreate,
    UidNext(u32),
    UidNotSticky,
    UidValidity(u32),
    Unavailable,
    Unseen(u32),
    /// RFC 5267 §4.3.1 `"NOUPDATE" SP quoted`: the tag of the searching
    /// command whose UPDATE the server declines.
    NoUpdate(String),
    /// Any other `atom [SP 1*<any TEXT-CHAR except "]">]`.
    Other(String, Option<String>),
}

/// Untagged data responses (RFC 9051 §7.2–7.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Data {
    Capability(Vec<String>),
    /// RFC 5161 §3.2
    Enabled(Vec<String>),
    /// `mailbox-list`. `name` is the wire form (UTF-7 or UTF-8) chosen by the session.
    List {
        attributes: Vec<String>,
        delimiter: Option<char>,
        name: String,
        child_info: Option<Vec<String>>,
    },
    /// A LIST response for a renamed mailbox with the RFC 5465 §5.4
    /// `OLDNAME` extended item (both names in wire form).
    ListRenamed {
        attributes: Vec<String>,
        delimiter: Option<char>,
        name: String,
        old_name: String,
    },
    Lsub {
        attributes: Vec<String>,
        delimiter: Option<char>,
        name: String,
    },
    /// `"STATUS" SP mailbox SP "(" [status-att-list] ")"`
    Status {
        mailbox: String,
        items: Vec<(StatusItem, u64)>,
    },
    /// A STATUS response that includes RFC 8474 `MAILBOXID (objectid)`: the
    /// numeric items as in [`Data::Status`], then `MAILBOXID`. (A variant of
    /// its own so that every `Data::Status` keeps its simple numeric form.)
    StatusWithMailboxId {
        mailbox: String,
        items: Vec<(StatusItem, u64)>,
        mailbox_id: String,
    },
    /// IMAP4rev1 `SEARCH` (`mod-sequence` is RFC 7162's `(MODSEQ n)`).
    Search {
        numbers: Vec<u32>,
        modseq: Option<u64>,
    },
    /// RFC 9051 §7.3.4 / RFC 4731 ESEARCH. `tag` is the search-correlator.
    ESearch {
        tag: Option<Tag>,
        uid: bool,
        min: Option<u32>,
        max: Option<u32>,
        all: Option<SequenceSet>,
        count: Option<u32>,
        modseq: Option<u64>,
        /// RFC 9394 `ret-data-partial`: the requested range and the results
        /// in it (`None` is `NIL`).
        partial: Option<(PartialRange, Option<SequenceSet>)>,
    },
    /// RFC 5267 §4.3 an ESEARCH response carrying `ret-data-addto` /
    /// `ret-data-removefrom` for the update context of the command `tag`.
    ContextUpdate {
        tag: Tag,
        uid: bool,
        updates: Vec<ContextUpdate>,
    },
    Flags(Vec<Flag>),
    Exists(u32),
    /// IMAP4rev1 only.
    Recent(u32),
    Expunge(u32),
    /// RFC 7162 §3.2.10 `VANISHED [(EARLIER)] known-uids`
    Vanished {
        earlier: bool,
        uids: SequenceSet,
    },
    Fetch {
        seq: u32,
        items: Vec<FetchValue>,
    },
    /// RFC 2342: each namespace is `(prefix, delimiter)`; `None` is NIL.
    Namespace {
        personal: Option<Vec<(String, char)>>,
        other: Option<Vec<(String, char)>>,
        shared: Option<Vec<(String, char)>>,
    },
    /// RFC 2971 §3.2. `None` is `ID NIL`.
    Id(Option<Vec<(String, Option<String>)>>),
    /// RFC 5256 §4 `sort-data = "SORT" *(SP nz-number)`; RFC 7162 §3.1.5 `(MODSEQ n)`.
    Sort {
        numbers: Vec<u32>,
        modseq: Option<u64>,
    },
    /// RFC 5256 §4 `thread-data = "THREAD" [SP 1*thread-list]`: the top-level threads.
    Thread(Vec<ThreadNode>),
    /// RFC 9208 §4.3.1 `"QUOTA" SP quota-root-name SP quota-list`; each
    /// resource is `(name, usage, limit)`.
    Quota {
        root: String,
        resources: Vec<(String, u64, u64)>,
    },
    /// RFC 9208 §4.3.2 `"QUOTAROOT" SP mailbox *(SP quota-root-name)`
    /// (`mailbox` in wire form).
    QuotaRoot {
        mailbox: String,
        roots: Vec<String>,
    },
    /// RFC 5464 §4.4.1 `"METADATA" SP mailbox SP entry-values` (`mailbox` in
    /// wire form, `""` for the server); a `None` value is NIL.
    Metadata {
        mailbox: String,
        entries: Vec<(String, Option<Vec<u8>>)>,
    },
    /// RFC 5464 §4.4.2 `"METADATA" SP mailbox SP entry-list`: the unsolicited
    /// form, entry names only.
    MetadataChanged {
        mailbox: String,
        entries: Vec<String>,
    },
}

/// RFC 5267 §4.3.3–4.3.4: one `ret-data-addto` or `ret-data-removefrom`,
/// pairs of a `context-position` (0: anywhere, in mailbox order) and the
/// results in the requested order, processed by the client in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextUpdate {
    AddTo(Vec<(u32, SequenceSet)>),
    RemoveFrom(Vec<(u32, SequenceSet)>),
}

/// One item of a FETCH response (`msg-att`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchValue {
    Flags(Vec<Flag>),
    Uid(u32),
    InternalDate(DateTime),
    Rfc822Size(u64),
    /// Pre-encoded `envelope` (computed once at delivery, sent verbatim).
    Envelope(Vec<u8>),
    /// Pre-encoded `body` (extensible form).
    BodyStructure(Vec<u8>),
    /// Pre-encoded `body` (non-extensible form, for `BODY`).
    Body(Vec<u8>),
    /// `"BODY" section ["<" number ">"] SP nstring`. `data == None` is NIL.
    BodySection {
        section: Section,
        origin: Option<u32>,
        data: Option<Vec<u8>>,
    },
    /// `"BINARY" section-binary ["<" number ">"] SP (nstring / literal8)`
    Binary {
        part: Vec<u32>,
        origin: Option<u32>,
        data: Option<Vec<u8>>,
    },
    BinarySize {
        part: Vec<u32>,
        size: u64,
    },
    Rfc822(Option<Vec<u8>>),
    Rfc822Header(Option<Vec<u8>>),
    Rfc822Text(Option<Vec<u8>>),
    ModSeq(u64),
    /// RFC 8474 `"EMAILID" SP "(" objectid ")"`
    EmailId(String),
    /// RFC 8474 `"THREADID" SP ("(" objectid ")" / nil)`
    ThreadId(Option<String>),
    /// RFC 8514 `"SAVEDATE" SP (date-time / nil)`
    SaveDate(Option<DateTime>),
    /// RFC 8970 §7 `"PREVIEW" SP nstring` (NIL only for `PREVIEW (LAZY)`).
    Preview(Option<String>),
}

/// `sort-criterion = ["REVERSE" SP] sort-key` (RFC 5256 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SortCriterion {
    pub reverse: bool,
    pub key: SortKey,
}

/// `sort-key` (RFC 5256 §5; RFC 5957 §5 DISPLAYFROM, DISPLAYTO).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortKey {
    Arrival,
    Cc,
    Date,
    From,
    Size,
    Subject,
    To,
    DisplayFrom,
    DisplayTo,
}

/// `thread-alg` (RFC 5256 §5; REFS from draft-ietf-morg-inthread).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ThreadAlgorithm {
    OrderedSubject,
    References,
    Refs,
}

/// RFC 9394 `partial-range = partial-range-first / partial-range-last`, as
/// the client sent it (`-1:-100` is `(-1, -100)`). Both ends have the same
/// sign and are non-zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PartialRange {
    pub first: i64,
    pub last: i64,
}

impl PartialRange {
    /// The zero-based index range `lo..hi` this range selects out of `len`
    /// results (RFC 9394 §3.1: 1 is the first result, -1 the last); empty
    /// when no result lies in it.
    pub fn slice(&self, len: usize) -> std::ops::Range<usize> {
        let len = len as i64;
        let (a, b) = (self.first.min(self.last), self.first.max(self.last));
        let (lo, hi) = if a > 0 {
            (a - 1, b) // 1-based inclusive a..=b
        } else {
            // -1 is index len-1; -b..-a with a <= b < 0, so -1:-3 is the last three.
            (len + a, len + b + 1)
        };
        let lo = lo.clamp(0, len);
        let hi = hi.clamp(0, len);
        if lo >= hi {
            0..0
        } else {
            lo as usize..hi as usize
        }
    }
}

/// One node of a THREAD response: a message number, or `None` for a dummy
/// parent (a message that is missing or did not match), with its children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadNode {
    pub id: Option<u32>,
    pub children: Vec<ThreadNode>,
}

impl SequenceSet {
    /// A set that keeps the order of `nums` (RFC 5267 §3.2, ESORT `ALL`):
    /// only ascending runs of consecutive numbers become ranges.
    pub fn from_ordered(nums: &[u32]) -> Option<SequenceSet> {
        let mut ranges: Vec<(SeqNum, SeqNum)> = Vec::new();
        for &n in nums.iter().filter(|&&n| n != 0) {
            match ranges.last_mut() {
                Some((_, SeqNum::Value(hi))) if hi.checked_add(1) == Some(n) => *hi = n,
                _ => ranges.push((SeqNum::Value(n), SeqNum::Value(n))),
            }
        }
        if ranges.is_empty() {
            None
        } else {
            Some(SequenceSet::Ranges(ranges))
        }
    }
}
