//! Syntax tree: the generic tree the parser produces ([`RawCommand`]), and the
//! typed, validated tree the validator produces ([`Command`], [`Test`]) that the
//! interpreter runs.

use crate::error::Pos;

// ---------------------------------------------------------------------------
// Generic (untyped) tree, straight from the grammar of RFC 5228 §8.2.
// ---------------------------------------------------------------------------

/// An argument as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawArg {
    Tag(String, Pos),
    Number(u64, Pos),
    /// A single string (not in brackets).
    Str(String, Pos),
    /// A bracketed string list.
    List(Vec<String>, Pos),
}

impl RawArg {
    pub fn pos(&self) -> Pos {
        match self {
            RawArg::Tag(_, p) | RawArg::Number(_, p) | RawArg::Str(_, p) | RawArg::List(_, p) => *p,
        }
    }
    pub fn describe(&self) -> String {
        match self {
            RawArg::Tag(t, _) => format!("tag `:{t}`"),
            RawArg::Number(n, _) => format!("number {n}"),
            RawArg::Str(..) => "a string".into(),
            RawArg::List(..) => "a string list".into(),
        }
    }
}

/// A test as written: `name args (test | "(" tests ")")`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawTest {
    pub name: String,
    pub pos: Pos,
    pub args: Vec<RawArg>,
    pub tests: Vec<RawTest>,
    /// Whether the tests were written as a parenthesised list.
    pub test_list: bool,
}

/// A command as written: `name args [test | test-list] (";" | block)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawCommand {
    pub name: String,
    pub pos: Pos,
    pub args: Vec<RawArg>,
    pub tests: Vec<RawTest>,
    pub test_list: bool,
    pub block: Option<Vec<RawCommand>>,
}

// ---------------------------------------------------------------------------
// Typed tree.
// ---------------------------------------------------------------------------

/// One piece of a string that may contain variable references (RFC 5229).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StrPart {
    Lit(String),
    /// A named variable, lower-cased (may contain a namespace, `global.x`).
    Var(String),
    /// A match variable `${N}`.
    Match(usize),
}

/// A string argument; constant unless the `variables` extension is in use.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Str(pub Vec<StrPart>);

impl Str {
    pub fn lit(s: impl Into<String>) -> Str {
        Str(vec![StrPart::Lit(s.into())])
    }
    /// The constant value, when the string contains no variable reference.
    pub fn as_const(&self) -> Option<String> {
        let mut out = String::new();
        for p in &self.0 {
            match p {
                StrPart::Lit(s) => out.push_str(s),
                _ => return None,
            }
        }
        Some(out)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparator {
    /// `i;octet`
    Octet,
    /// `i;ascii-casemap` (the default)
    AsciiCasemap,
    /// `i;ascii-numeric` (RFC 4790)
    AsciiNumeric,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelOp {
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchType {
    Is,
    Contains,
    Matches,
    Regex,
    Count(RelOp),
    Value(RelOp),
}

/// Comparator + match type + keys of a matching test.
#[derive(Debug, Clone)]
pub struct Matcher {
    pub comparator: Comparator,
    pub match_type: MatchType,
    pub keys: Vec<Str>,
    /// Pre-compiled regexes when all keys are constant.
    pub regexes: Option<Vec<regex::Regex>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddrPart {
    All,
    LocalPart,
    Domain,
    User,
    Detail,
}

/// `:index N [:last]` (RFC 5260).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Index {
    pub n: u64,
    pub last: bool,
}

/// `:mime` options of header/address/exists (RFC 5703).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MimeOpts {
    pub mime: bool,
    pub anychild: bool,
    pub option: Option<MimeOption>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MimeOption {
    Type,
    Subtype,
    ContentType,
    Param(Vec<Str>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyTransform {
    Raw,
    Content(Vec<Str>),
    Text,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Zone {
    /// The host's local zone.
    Local,
    /// `:zone "+hhmm"`
    Fixed(Str),
    /// `:originalzone`
    Original,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DupSource {
    MessageId,
    Header(Str),
    UniqueId(Str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetModifier {
    Lower,
    Upper,
    LowerFirst,
    UpperFirst,
    QuoteWildcard,
    QuoteRegex,
    EncodeUrl,
    Length,
}

impl SetModifier {
    /// RFC 5229 §4.1 precedence: higher is applied first.
    pub fn precedence(self) -> u8 {
        match self {
            SetModifier::Lower | SetModifier::Upper => 40,
            SetModifier::LowerFirst | SetModifier::UpperFirst => 30,
            SetModifier::QuoteWildcard | SetModifier::QuoteRegex => 20,
            SetModifier::EncodeUrl => 15,
            SetModifier::Length => 10,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagOp {
    Set,
    Add,
    Remove,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IncludeLocation {
    Personal,
    Global,
}

#[derive(Debug, Clone)]
pub struct Test {
    pub pos: Pos,
    pub kind: TestKind,
}

#[derive(Debug, Clone)]
pub enum TestKind {
    True,
    False,
    Not(Box<Test>),
    AllOf(Vec<Test>),
    AnyOf(Vec<Test>),
    Address {
        m: Matcher,
        part: AddrPart,
        index: Option<Index>,
        mime: MimeOpts,
        headers: Vec<Str>,
    },
    Envelope {
        m: Matcher,
        part: AddrPart,
        fields: Vec<Str>,
    },
    Header {
        m: Matcher,
        index: Option<Index>,
        mime: MimeOpts,
        headers: Vec<Str>,
    },
    Exists {
        headers: Vec<Str>,
        mime: MimeOpts,
    },
    Size {
        over: bool,
        limit: u64,
    },
    Body {
        m: Matcher,
        transform: BodyTransform,
    },
    String {
        m: Matcher,
        sources: Vec<Str>,
    },
    HasFlag {
        m: Matcher,
        vars: Vec<Str>,
    },
    Date {
        m: Matcher,
        index: Option<Index>,
        zone: Zone,
        header: Str,
        part: Str,
    },
    CurrentDate {
        m: Matcher,
        zone: Zone,
        part: Str,
    },
    MailboxExists(Vec<Str>),
    SpecialUseExists {
        mailbox: Option<Str>,
        uses: Vec<Str>,
    },
    SpamTest {
        m: Matcher,
        percent: bool,
    },
    VirusTest {
        m: Matcher,
    },
    Environment {
        m: Matcher,
        name: Str,
    },
    Duplicate {
        handle: Option<Str>,
        source: DupSource,
        seconds: Option<u64>,
        last: bool,
    },
    /// Result of `ihave`, known at compile time.
    Ihave(bool),
}

pub type Block = Vec<Command>;

#[derive(Debug, Clone)]
pub struct Command {
    pub pos: Pos,
    pub kind: CommandKind,
}

#[derive(Debug, Clone)]
pub enum CommandKind {
    If {
        branches: Vec<(Test, Block)>,
        otherwise: Option<Block>,
    },
    Stop,
    Keep {
        flags: Option<Vec<Str>>,
    },
    Discard,
    FileInto {
        mailbox: Str,
        copy: bool,
        create: bool,
        flags: Option<Vec<Str>>,
        special_use: Option<Str>,
    },
    Redirect {
        address: Str,
        copy: bool,
    },
    Reject {
        reason: Str,
        extended: bool,
    },
    Vacation {
        reason: Str,
        subject: Option<Str>,
        from: Option<Str>,
        addresses: Vec<Str>,
        period: Option<u64>,
        mime: bool,
        handle: Option<Str>,
        flags: Option<Vec<Str>>,
    },
    Flags {
        op: FlagOp,
        var: Option<String>,
        flags: Vec<Str>,
    },
    Set {
        name: String,
        value: Str,
        modifiers: Vec<SetModifier>,
    },
    AddHeader {
        last: bool,
        name: Str,
        value: Str,
    },
    DeleteHeader {
        index: Option<Index>,
        m: Option<Matcher>,
        name: Str,
        values: Vec<Str>,
    },
    Include {
        location: IncludeLocation,
        once: bool,
        optional: bool,
        name: Str,
    },
    Return,
    Global(Vec<String>),
    ForEveryPart {
        name: Option<String>,
        body: Block,
    },
    Break {
        name: Option<String>,
    },
    ExtractText {
        modifiers: Vec<SetModifier>,
        first: Option<u64>,
        var: String,
    },
    Error(Str),
    /// A command inside an `ihave` block whose extension is not supported; it
    /// never runs.
    Nop,
}
