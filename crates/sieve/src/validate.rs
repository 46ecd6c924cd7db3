//! Validator: checks a generic tree against the grammar of each command and
//! test (arguments, tags, required extensions, `if`/`elsif`/`else` structure)
//! and produces the typed tree the interpreter runs.

use std::collections::HashSet;

use crate::ast::*;
use crate::error::{CompileError, Pos};
use crate::limits::Limits;

/// Every extension this implementation supports, in the order advertised
/// (e.g. by ManageSieve's SIEVE capability).
pub const EXTENSIONS: &[&str] = &[
    "fileinto",
    "reject",
    "ereject",
    "envelope",
    "encoded-character",
    "vacation",
    "vacation-seconds",
    "subaddress",
    "comparator-i;ascii-numeric",
    "relational",
    "regex",
    "imap4flags",
    "copy",
    "include",
    "body",
    "variables",
    "environment",
    "mailbox",
    "date",
    "index",
    "ihave",
    "duplicate",
    "mime",
    "foreverypart",
    "extracttext",
    "editheader",
    "spamtest",
    "spamtestplus",
    "virustest",
    "special-use",
];

/// Extensions that are always available without `require` (comparators that
/// RFC 5228 §2.7.3 requires every implementation to have).
const IMPLICIT: &[&str] = &["comparator-i;octet", "comparator-i;ascii-casemap"];

const COMMANDS: &[&str] = &[
    "require",
    "if",
    "elsif",
    "else",
    "stop",
    "keep",
    "discard",
    "redirect",
    "fileinto",
    "reject",
    "ereject",
    "setflag",
    "addflag",
    "removeflag",
    "set",
    "vacation",
    "addheader",
    "deleteheader",
    "include",
    "return",
    "global",
    "foreverypart",
    "break",
    "extracttext",
    "error",
];

const TESTS: &[&str] = &[
    "address",
    "allof",
    "anyof",
    "envelope",
    "exists",
    "false",
    "header",
    "not",
    "size",
    "true",
    "body",
    "string",
    "hasflag",
    "date",
    "currentdate",
    "mailboxexists",
    "specialuse_exists",
    "spamtest",
    "virustest",
    "environment",
    "duplicate",
    "ihave",
];

const DATE_PARTS: &[&str] = &[
    "year", "month", "day", "date", "julian", "hour", "minute", "second", "time", "iso8601", "std11", "zone", "weekday",
];

fn command_ext(name: &str) -> Option<&'static str> {
    Some(match name {
        "fileinto" => "fileinto",
        "reject" => "reject",
        "ereject" => "ereject",
        "setflag" | "addflag" | "removeflag" => "imap4flags",
        "set" => "variables",
        "vacation" => "vacation",
        "addheader" | "deleteheader" => "editheader",
        "include" | "return" | "global" => "include",
        "foreverypart" | "break" => "foreverypart",
        "extracttext" => "extracttext",
        "error" => "ihave",
        _ => return None,
    })
}

fn test_ext(name: &str) -> Option<&'static str> {
    Some(match name {
        "envelope" => "envelope",
        "body" => "body",
        "string" => "variables",
        "hasflag" => "imap4flags",
        "date" | "currentdate" => "date",
        "mailboxexists" => "mailbox",
        "specialuse_exists" => "special-use",
        "spamtest" => "spamtest",
        "virustest" => "virustest",
        "environment" => "environment",
        "duplicate" => "duplicate",
        "ihave" => "ihave",
        _ => return None,
    })
}

/// Levenshtein distance, for "did you mean" suggestions.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut prev2: Vec<usize> = prev.clone();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
            // adjacent transposition counts as one edit
            if i > 0 && j > 0 && a[i] == b[j - 1] && a[i - 1] == b[j] {
                cur[j + 1] = cur[j + 1].min(prev2[j - 1] + 1);
            }
        }
        prev2 = std::mem::replace(&mut prev, cur);
    }
    prev[b.len()]
}

/// The closest candidate to `name`, if it is close enough to be a typo.
pub fn suggest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let max = (name.chars().count() / 3).clamp(1, 3);
    candidates
        .iter()
        .map(|c| (distance(name, c), *c))
        .filter(|(d, _)| *d <= max)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn did_you_mean(name: &str, candidates: &[&str]) -> String {
    match suggest(name, candidates) {
        Some(s) => format!(", did you mean `{s}`?"),
        None => String::new(),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum TagArg {
    None,
    Num,
    Str,
    List,
}

type TagSpec = (&'static str, TagArg, Option<&'static str>);

const MATCH_TAGS: &[TagSpec] = &[
    ("comparator", TagArg::Str, None),
    ("is", TagArg::None, None),
    ("contains", TagArg::None, None),
    ("matches", TagArg::None, None),
    ("regex", TagArg::None, Some("regex")),
    ("count", TagArg::Str, Some("relational")),
    ("value", TagArg::Str, Some("relational")),
];
const MATCH_GROUP: &[&str] = &["is", "contains", "matches", "regex", "count", "value"];
const ADDR_TAGS: &[TagSpec] = &[
    ("all", TagArg::None, None),
    ("localpart", TagArg::None, None),
    ("domain", TagArg::None, None),
    ("user", TagArg::None, Some("subaddress")),
    ("detail", TagArg::None, Some("subaddress")),
];
const ADDR_GROUP: &[&str] = &["all", "localpart", "domain", "user", "detail"];
const INDEX_TAGS: &[TagSpec] = &[("index", TagArg::Num, Some("index")), ("last", TagArg::None, Some("index"))];
const MIME_TAGS: &[TagSpec] = &[
    ("mime", TagArg::None, Some("mime")),
    ("anychild", TagArg::None, Some("mime")),
    ("type", TagArg::None, Some("mime")),
    ("subtype", TagArg::None, Some("mime")),
    ("contenttype", TagArg::None, Some("mime")),
    ("param", TagArg::List, Some("mime")),
];
const MIME_GROUP: &[&str] = &["type", "subtype", "contenttype", "param"];
const SET_TAGS: &[TagSpec] = &[
    ("lower", TagArg::None, None),
    ("upper", TagArg::None, None),
    ("lowerfirst", TagArg::None, None),
    ("upperfirst", TagArg::None, None),
    ("quotewildcard", TagArg::None, None),
    ("quoteregex", TagArg::None, Some("regex")),
    ("length", TagArg::None, None),
];

struct Tags {
    items: Vec<(String, Pos, Option<RawArg>)>,
}

impl Tags {
    fn has(&self, t: &str) -> bool {
        self.items.iter().any(|(n, _, _)| n == t)
    }
    fn get(&self, t: &str) -> Option<&(String, Pos, Option<RawArg>)> {
        self.items.iter().find(|(n, _, _)| n == t)
    }
    fn num(&self, t: &str) -> Option<u64> {
        match self.get(t) {
            Some((_, _, Some(RawArg::Number(n, _)))) => Some(*n),
            _ => None,
        }
    }
    fn string(&self, t: &str) -> Option<(&str, Pos)> {
        match self.get(t) {
            Some((_, _, Some(RawArg::Str(s, p)))) => Some((s.as_str(), *p)),
            _ => None,
        }
    }
    fn list(&self, t: &str) -> Option<Vec<String>> {
        match self.get(t) {
            Some((_, _, Some(RawArg::Str(s, _)))) => Some(vec![s.clone()]),
            Some((_, _, Some(RawArg::List(l, _)))) => Some(l.clone()),
            _ => None,
        }
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Str,
    List,
    Num,
}

/// Compiles scripts. Hold one per configuration; `compile` is cheap to call.
#[derive(Debug, Clone)]
pub struct Compiler {
    pub limits: Limits,
    /// Extensions offered to scripts (a subset of [`EXTENSIONS`]).
    pub extensions: Vec<String>,
}

impl Default for Compiler {
    fn default() -> Self {
        Compiler { limits: Limits::default(), extensions: EXTENSIONS.iter().map(|s| s.to_string()).collect() }
    }
}

/// A compiled, validated script.
#[derive(Debug, Clone)]
pub struct Script {
    pub commands: Block,
    /// The extensions named by `require`.
    pub required: Vec<String>,
}

impl Script {
    pub fn requires(&self, ext: &str) -> bool {
        self.required.iter().any(|e| e == ext)
    }
}

impl Compiler {
    pub fn new(limits: Limits) -> Self {
        Compiler { limits, ..Compiler::default() }
    }

    fn supported(&self, ext: &str) -> bool {
        IMPLICIT.contains(&ext) || self.extensions.iter().any(|e| e == ext)
    }

    /// Parses and validates a script.
    pub fn compile(&self, src: &str) -> Result<Script, CompileError> {
        if src.len() > self.limits.max_script_size {
            return Err(CompileError::new(
                Pos { line: 1, col: 1 },
                format!(
                    "script is {} bytes, larger than the limit of {} bytes",
                    src.len(),
                    self.limits.max_script_size
                ),
            ));
        }
        let raw = crate::parser::parse(src, self.limits.max_nesting)?;
        let mut v = Validator {
            c: self,
            required: IMPLICIT.iter().map(|s| s.to_string()).collect(),
            declared: Vec::new(),
            loops: Vec::new(),
        };
        let commands = v.block(&raw, true)?;
        Ok(Script { commands, required: v.declared })
    }
}

struct Validator<'a> {
    c: &'a Compiler,
    required: HashSet<String>,
    declared: Vec<String>,
    /// Enclosing `foreverypart` loops, by name.
    loops: Vec<Option<String>>,
}

fn err<T>(pos: Pos, msg: impl Into<String>) -> Result<T, CompileError> {
    Err(CompileError::new(pos, msg))
}

fn is_identifier(s: &str) -> bool {
    let mut ch = s.chars();
    match ch.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return false,
    }
    ch.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn valid_field_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| (33..=126).contains(&b) && b != b':')
}

/// Decodes `${hex:…}` and `${unicode:…}` (RFC 5228 §2.4.2.4). Malformed
/// sequences are left as they are.
pub fn decode_encoded_characters(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let decoded = (|| {
            let close = after.find('}')?;
            let inner = &after[..close];
            let colon = inner.find(':')?;
            let kind = inner[..colon].trim().to_ascii_lowercase();
            let body = &inner[colon + 1..];
            let mut text = String::new();
            match kind.as_str() {
                "hex" => {
                    let mut bytes = Vec::new();
                    for h in body.split_ascii_whitespace() {
                        if h.len() > 2 && !h.is_empty() {
                            // allow long runs of pairs
                            if h.len() % 2 != 0 {
                                return None;
                            }
                            for k in (0..h.len()).step_by(2) {
                                bytes.push(u8::from_str_radix(h.get(k..k + 2)?, 16).ok()?);
                            }
                        } else {
                            bytes.push(u8::from_str_radix(h, 16).ok()?);
                        }
                    }
                    text = String::from_utf8(bytes).ok()?;
                }
                "unicode" => {
                    for h in body.split_ascii_whitespace() {
                        if h.len() > 6 {
                            return None;
                        }
                        let cp = u32::from_str_radix(h, 16).ok()?;
                        text.push(char::from_u32(cp)?);
                    }
                }
                _ => return None,
            }
            Some((text, close))
        })();
        match decoded {
            Some((text, close)) => {
                out.push_str(&text);
                rest = &after[close + 1..];
            }
            None => {
                out.push_str("${");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Splits a string into literal text and `${name}` / `${N}` references
/// (RFC 5229 §3).
pub fn parse_variables(s: &str) -> Str {
    let mut parts: Vec<StrPart> = Vec::new();
    let mut lit = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        lit.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let mut handled = false;
        if let Some(close) = after.find('}') {
            let inner = &after[..close];
            if !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_digit()) {
                if let Ok(n) = inner.parse::<usize>() {
                    if !lit.is_empty() {
                        parts.push(StrPart::Lit(std::mem::take(&mut lit)));
                    }
                    parts.push(StrPart::Match(n));
                    handled = true;
                }
            } else if !inner.is_empty() && inner.split('.').all(is_identifier) {
                if !lit.is_empty() {
                    parts.push(StrPart::Lit(std::mem::take(&mut lit)));
                }
                parts.push(StrPart::Var(inner.to_ascii_lowercase()));
                handled = true;
            }
            if handled {
                rest = &after[close + 1..];
            }
        }
        if !handled {
            lit.push_str("${");
            rest = after;
        }
    }
    lit.push_str(rest);
    if !lit.is_empty() || parts.is_empty() {
        parts.push(StrPart::Lit(lit));
    }
    Str(parts)
}

/// Compiles a regex with the size guard of `limits`.
pub fn compile_regex(pattern: &str, casemap: bool, limits: &Limits) -> Result<regex::Regex, String> {
    if pattern.len() > limits.max_regex_len {
        return Err(format!(
            "regular expression is {} bytes, longer than the limit of {}",
            pattern.len(),
            limits.max_regex_len
        ));
    }
    regex::RegexBuilder::new(pattern)
        .case_insensitive(casemap)
        .size_limit(limits.max_regex_compiled)
        .dfa_size_limit(limits.max_regex_compiled)
        .nest_limit(32)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(_) => {
                format!("regular expression too complex (compiled size over {} bytes)", limits.max_regex_compiled)
            }
            other => format!("invalid regular expression: {other}"),
        })
}

impl<'a> Validator<'a> {
    fn has(&self, ext: &str) -> bool {
        self.required.contains(ext)
    }

    fn need(&self, ext: &str, pos: Pos, what: &str) -> Result<(), CompileError> {
        if self.has(ext) {
            Ok(())
        } else {
            err(
                pos,
                format!("{what} requires the extension \"{ext}\"; add `require \"{ext}\";` at the top of the script"),
            )
        }
    }

    fn s(&self, s: &str) -> Str {
        let s = if self.has("encoded-character") { decode_encoded_characters(s) } else { s.to_string() };
        if self.has("variables") {
            parse_variables(&s)
        } else {
            Str::lit(s)
        }
    }

    fn const_s(&self, s: &str) -> String {
        if self.has("encoded-character") {
            decode_encoded_characters(s)
        } else {
            s.to_string()
        }
    }

    fn tags(&self, what: &str, args: &[RawArg], allowed: &[&[TagSpec]]) -> Result<(Tags, Vec<RawArg>), CompileError> {
        let mut tags = Tags { items: Vec::new() };
        let mut positional = Vec::new();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            match a {
                RawArg::Tag(name, pos) => {
                    let spec = allowed.iter().flat_map(|g| g.iter()).find(|(n, _, _)| n == name);
                    let Some((_, targ, ext)) = spec else {
                        let names: Vec<&str> = allowed.iter().flat_map(|g| g.iter()).map(|(n, _, _)| *n).collect();
                        let hint = match suggest(name, &names) {
                            Some(s) => format!(", did you mean `:{s}`?"),
                            None if names.is_empty() => " (it takes no tagged arguments)".into(),
                            None => format!(
                                " (allowed: {})",
                                names.iter().map(|n| format!(":{n}")).collect::<Vec<_>>().join(" ")
                            ),
                        };
                        return err(*pos, format!("unknown tag `:{name}` for {what}{hint}"));
                    };
                    if let Some(ext) = ext {
                        self.need(ext, *pos, &format!("tag `:{name}`"))?;
                    }
                    if tags.has(name) {
                        return err(*pos, format!("tag `:{name}` given twice for {what}"));
                    }
                    let val = match targ {
                        TagArg::None => None,
                        _ => {
                            let v = it.next();
                            let ok = matches!(
                                (targ, v),
                                (TagArg::Num, Some(RawArg::Number(..)))
                                    | (TagArg::Str, Some(RawArg::Str(..)))
                                    | (TagArg::List, Some(RawArg::Str(..) | RawArg::List(..)))
                            );
                            if !ok {
                                let expected = match targ {
                                    TagArg::Num => "a number",
                                    TagArg::Str => "a string",
                                    _ => "a string list",
                                };
                                let found = v.map(|v| v.describe()).unwrap_or_else(|| "nothing".into());
                                return err(
                                    *pos,
                                    format!("tag `:{name}` of {what} must be followed by {expected}, found {found}"),
                                );
                            }
                            v.cloned()
                        }
                    };
                    tags.items.push((name.clone(), *pos, val));
                }
                other => positional.push(other.clone()),
            }
        }
        Ok((tags, positional))
    }

    fn exclusive(&self, what: &str, tags: &Tags, group: &[&str]) -> Result<Option<String>, CompileError> {
        let found: Vec<&(String, Pos, Option<RawArg>)> =
            tags.items.iter().filter(|(n, _, _)| group.contains(&n.as_str())).collect();
        if found.len() > 1 {
            return err(
                found[1].1,
                format!("tags `:{}` and `:{}` cannot be used together in {what}", found[0].0, found[1].0),
            );
        }
        Ok(found.first().map(|(n, _, _)| n.clone()))
    }

    fn positional(
        &self,
        what: &str,
        pos: Pos,
        args: Vec<RawArg>,
        kinds: &[(Kind, &str)],
        optional_first: bool,
    ) -> Result<Vec<RawArg>, CompileError> {
        let min = if optional_first { kinds.len().saturating_sub(1) } else { kinds.len() };
        if args.len() > kinds.len() {
            let extra = &args[kinds.len()];
            return err(
                extra.pos(),
                format!(
                    "too many arguments for {what}: unexpected {} (usage: {what} {})",
                    extra.describe(),
                    kinds.iter().map(|(_, n)| format!("<{n}>")).collect::<Vec<_>>().join(" ")
                ),
            );
        }
        if args.len() < min {
            let names: Vec<String> = kinds.iter().map(|(_, n)| format!("<{n}>")).collect();
            return err(
                pos,
                format!(
                    "{what} needs {} argument{} ({}), found {}",
                    min,
                    if min == 1 { "" } else { "s" },
                    names.join(" "),
                    args.len()
                ),
            );
        }
        let offset = kinds.len() - args.len();
        for (i, a) in args.iter().enumerate() {
            let (kind, name) = kinds[i + offset];
            let ok = match kind {
                Kind::Str => matches!(a, RawArg::Str(..)),
                Kind::List => matches!(a, RawArg::Str(..) | RawArg::List(..)),
                Kind::Num => matches!(a, RawArg::Number(..)),
            };
            if !ok {
                let expected = match kind {
                    Kind::Str => "a string",
                    Kind::List => "a string or string list",
                    Kind::Num => "a number",
                };
                return err(a.pos(), format!("{what}: <{name}> must be {expected}, found {}", a.describe()));
            }
        }
        Ok(args)
    }

    fn list(&self, a: &RawArg) -> Vec<Str> {
        match a {
            RawArg::Str(s, _) => vec![self.s(s)],
            RawArg::List(l, _) => l.iter().map(|s| self.s(s)).collect(),
            _ => Vec::new(),
        }
    }
    fn raw_list(&self, a: &RawArg) -> Vec<String> {
        match a {
            RawArg::Str(s, _) => vec![self.const_s(s)],
            RawArg::List(l, _) => l.iter().map(|s| self.const_s(s)).collect(),
            _ => Vec::new(),
        }
    }
    fn string(&self, a: &RawArg) -> Str {
        match a {
            RawArg::Str(s, _) => self.s(s),
            _ => Str::default(),
        }
    }
    fn raw_string(&self, a: &RawArg) -> String {
        match a {
            RawArg::Str(s, _) => self.const_s(s),
            _ => String::new(),
        }
    }

    fn matcher(&self, what: &str, tags: &Tags, keys: &RawArg) -> Result<Matcher, CompileError> {
        let mt_name = self.exclusive(what, tags, MATCH_GROUP)?;
        let relop = |t: &str| -> Result<RelOp, CompileError> {
            let (v, p) = tags.string(t).unwrap_or(("", Pos::default()));
            Ok(match self.const_s(v).to_ascii_lowercase().as_str() {
                "gt" => RelOp::Gt,
                "ge" => RelOp::Ge,
                "lt" => RelOp::Lt,
                "le" => RelOp::Le,
                "eq" => RelOp::Eq,
                "ne" => RelOp::Ne,
                other => {
                    return err(
                        p,
                        format!("unknown relational operator \"{other}\" (use \"gt\", \"ge\", \"lt\", \"le\", \"eq\" or \"ne\")"),
                    )
                }
            })
        };
        let match_type = match mt_name.as_deref() {
            None | Some("is") => MatchType::Is,
            Some("contains") => MatchType::Contains,
            Some("matches") => MatchType::Matches,
            Some("regex") => MatchType::Regex,
            Some("count") => MatchType::Count(relop("count")?),
            _ => MatchType::Value(relop("value")?),
        };
        let comparator = match tags.string("comparator") {
            None => Comparator::AsciiCasemap,
            Some((c, p)) => match self.const_s(c).to_ascii_lowercase().as_str() {
                "i;octet" => Comparator::Octet,
                "i;ascii-casemap" => Comparator::AsciiCasemap,
                "i;ascii-numeric" => {
                    self.need("comparator-i;ascii-numeric", p, "comparator \"i;ascii-numeric\"")?;
                    Comparator::AsciiNumeric
                }
                other => {
                    let hint = did_you_mean(other, &["i;octet", "i;ascii-casemap", "i;ascii-numeric"]);
                    return err(p, format!("unknown comparator \"{other}\"{hint}"));
                }
            },
        };
        if comparator == Comparator::AsciiNumeric
            && matches!(match_type, MatchType::Contains | MatchType::Matches | MatchType::Regex)
        {
            return err(keys.pos(), "comparator \"i;ascii-numeric\" supports only :is, :value and :count");
        }
        let keys_s = self.list(keys);
        let mut regexes = None;
        if match_type == MatchType::Regex {
            let consts: Option<Vec<String>> = keys_s.iter().map(|k| k.as_const()).collect();
            if let Some(consts) = consts {
                let mut v = Vec::new();
                for k in consts {
                    v.push(
                        compile_regex(&k, comparator == Comparator::AsciiCasemap, &self.c.limits)
                            .map_err(|e| CompileError::new(keys.pos(), e))?,
                    );
                }
                regexes = Some(v);
            }
        }
        Ok(Matcher { comparator, match_type, keys: keys_s, regexes })
    }

    fn addr_part(&self, what: &str, tags: &Tags) -> Result<AddrPart, CompileError> {
        Ok(match self.exclusive(what, tags, ADDR_GROUP)?.as_deref() {
            Some("localpart") => AddrPart::LocalPart,
            Some("domain") => AddrPart::Domain,
            Some("user") => AddrPart::User,
            Some("detail") => AddrPart::Detail,
            _ => AddrPart::All,
        })
    }

    fn index(&self, what: &str, tags: &Tags) -> Result<Option<Index>, CompileError> {
        match (tags.num("index"), tags.get("last")) {
            (Some(0), _) => {
                err(tags.get("index").map(|t| t.1).unwrap_or_default(), format!(":index of {what} counts from 1"))
            }
            (Some(n), last) => Ok(Some(Index { n, last: last.is_some() })),
            (None, Some((_, p, _))) => err(*p, format!("`:last` of {what} needs `:index`")),
            (None, None) => Ok(None),
        }
    }

    fn mime(&self, what: &str, tags: &Tags) -> Result<MimeOpts, CompileError> {
        let opt = self.exclusive(what, tags, MIME_GROUP)?;
        let mime = tags.has("mime");
        if !mime {
            for t in ["anychild", "type", "subtype", "contenttype", "param"] {
                if let Some((_, p, _)) = tags.get(t) {
                    return err(*p, format!("tag `:{t}` of {what} needs `:mime`"));
                }
            }
        }
        let option = match opt.as_deref() {
            Some("type") => Some(MimeOption::Type),
            Some("subtype") => Some(MimeOption::Subtype),
            Some("contenttype") => Some(MimeOption::ContentType),
            Some("param") => {
                Some(MimeOption::Param(tags.list("param").unwrap_or_default().iter().map(|s| self.s(s)).collect()))
            }
            _ => None,
        };
        Ok(MimeOpts { mime, anychild: tags.has("anychild"), option })
    }

    fn zone(&self, tags: &Tags) -> Result<Zone, CompileError> {
        if let Some((z, p)) = tags.string("zone") {
            let zs = self.s(z);
            if let Some(c) = zs.as_const() {
                if crate::interpret::date::parse_zone(&c).is_none() {
                    return err(p, format!("invalid time zone \"{c}\" (use +hhmm or -hhmm)"));
                }
            }
            Ok(Zone::Fixed(zs))
        } else if tags.has("originalzone") {
            Ok(Zone::Original)
        } else {
            Ok(Zone::Local)
        }
    }

    fn date_part(&self, a: &RawArg) -> Result<Str, CompileError> {
        let part = self.string(a);
        if let Some(c) = part.as_const() {
            let lc = c.to_ascii_lowercase();
            if !DATE_PARTS.contains(&lc.as_str()) {
                let hint = did_you_mean(&lc, DATE_PARTS);
                return err(a.pos(), format!("unknown date part \"{c}\"{hint}"));
            }
        }
        Ok(part)
    }

    fn set_modifiers(&self, tags: &Tags) -> Result<Vec<SetModifier>, CompileError> {
        let mut mods: Vec<(SetModifier, Pos)> = Vec::new();
        for (name, pos, _) in &tags.items {
            let m = match name.as_str() {
                "lower" => SetModifier::Lower,
                "upper" => SetModifier::Upper,
                "lowerfirst" => SetModifier::LowerFirst,
                "upperfirst" => SetModifier::UpperFirst,
                "quotewildcard" => SetModifier::QuoteWildcard,
                "quoteregex" => SetModifier::QuoteRegex,
                "length" => SetModifier::Length,
                _ => continue,
            };
            if let Some((other, _)) = mods.iter().find(|(o, _)| o.precedence() == m.precedence()) {
                return err(
                    *pos,
                    format!("modifiers {other:?} and {m:?} cannot be used together (same precedence)").to_lowercase(),
                );
            }
            mods.push((m, *pos));
        }
        let mut mods: Vec<SetModifier> = mods.into_iter().map(|(m, _)| m).collect();
        mods.sort_by_key(|m| std::cmp::Reverse(m.precedence()));
        Ok(mods)
    }

    fn var_name(&self, a: &RawArg, what: &str) -> Result<String, CompileError> {
        let name = self.raw_string(a);
        let ok = if let Some(rest) = name.to_ascii_lowercase().strip_prefix("global.") {
            is_identifier(rest)
        } else {
            is_identifier(&name)
        };
        if !ok {
            return err(
                a.pos(),
                format!("{what}: \"{name}\" is not a valid variable name (letters, digits and `_`, not starting with a digit)"),
            );
        }
        Ok(name.to_ascii_lowercase())
    }

    fn no_tests(&self, what: &str, pos: Pos, tests: &[RawTest]) -> Result<(), CompileError> {
        if let Some(t) = tests.first() {
            let _ = pos;
            return err(t.pos, format!("{what} does not take a test (found `{}`)", t.name));
        }
        Ok(())
    }

    // -----------------------------------------------------------------------

    fn block(&mut self, cmds: &[RawCommand], top: bool) -> Result<Block, CompileError> {
        let mut out = Vec::new();
        let mut i = 0;
        let mut seen_other = !top;
        while i < cmds.len() {
            let c = &cmds[i];
            match c.name.as_str() {
                "require" => {
                    if seen_other {
                        return err(
                            c.pos,
                            "`require` must come before any other command (put it at the top of the script)",
                        );
                    }
                    self.require(c)?;
                    i += 1;
                }
                "if" => {
                    seen_other = true;
                    let mut branches = Vec::new();
                    let mut otherwise = None;
                    let t = self.cond(c, "if")?;
                    let b = self.cond_block(c, &t)?;
                    branches.push((t, b));
                    i += 1;
                    while let Some(n) = cmds.get(i) {
                        match n.name.as_str() {
                            "elsif" => {
                                let t = self.cond(n, "elsif")?;
                                let b = self.cond_block(n, &t)?;
                                branches.push((t, b));
                                i += 1;
                            }
                            "else" => {
                                if !n.args.is_empty() || !n.tests.is_empty() {
                                    return err(n.pos, "`else` takes no arguments or tests, only a block");
                                }
                                let Some(b) = &n.block else {
                                    return err(n.pos, "`else` needs a block `{ ... }`");
                                };
                                otherwise = Some(self.block(b, false)?);
                                i += 1;
                                break;
                            }
                            _ => break,
                        }
                    }
                    out.push(Command { pos: c.pos, kind: CommandKind::If { branches, otherwise } });
                }
                "elsif" | "else" => {
                    return err(c.pos, format!("`{}` without a preceding `if`", c.name));
                }
                _ => {
                    seen_other = true;
                    out.push(self.command(c)?);
                    i += 1;
                }
            }
        }
        Ok(out)
    }

    fn require(&mut self, c: &RawCommand) -> Result<(), CompileError> {
        if c.block.is_some() {
            return err(c.pos, "`require` does not take a block");
        }
        self.no_tests("`require`", c.pos, &c.tests)?;
        let (_, args) = self.tags("`require`", &c.args, &[])?;
        let args = self.positional("`require`", c.pos, args, &[(Kind::List, "capabilities")], false)?;
        for ext in self.raw_list(&args[0]) {
            let lc = ext.to_ascii_lowercase();
            if !self.c.supported(&lc) {
                let all: Vec<&str> = self.c.extensions.iter().map(|s| s.as_str()).collect();
                let hint = did_you_mean(&lc, &all);
                return err(args[0].pos(), format!("unsupported extension \"{ext}\"{hint}"));
            }
            if lc == "global" {
                continue;
            }
            // implied requirements
            if lc == "vacation-seconds" {
                self.required.insert("vacation".into());
            }
            if lc == "spamtestplus" {
                self.required.insert("spamtest".into());
            }
            if !self.declared.contains(&lc) {
                self.declared.push(lc.clone());
            }
            self.required.insert(lc);
        }
        Ok(())
    }

    fn cond(&mut self, c: &RawCommand, what: &str) -> Result<Test, CompileError> {
        if !c.args.is_empty() {
            return err(c.args[0].pos(), format!("`{what}` takes a test, not {}", c.args[0].describe()));
        }
        if c.tests.len() != 1 || c.test_list {
            return err(
                c.pos,
                format!("`{what}` needs exactly one test (combine several with allof(...) or anyof(...))"),
            );
        }
        if c.block.is_none() {
            return err(c.pos, format!("`{what}` needs a block `{{ ... }}` after its test"));
        }
        self.test(&c.tests[0])
    }

    fn cond_block(&mut self, c: &RawCommand, t: &Test) -> Result<Block, CompileError> {
        let Some(b) = &c.block else {
            return err(c.pos, format!("`{}` needs a block", c.name));
        };
        // `if ihave [...]`: the block may use those extensions (RFC 5463).
        if let (TestKind::Ihave(ok), Some(rt)) = (&t.kind, c.tests.first()) {
            if !*ok {
                return Ok(vec![Command { pos: c.pos, kind: CommandKind::Nop }]);
            }
            let saved = self.required.clone();
            if let Some(a) = rt.args.first() {
                for e in self.raw_list(a) {
                    self.required.insert(e.to_ascii_lowercase());
                }
            }
            let r = self.block(b, false);
            self.required = saved;
            return r;
        }
        self.block(b, false)
    }

    fn command(&mut self, c: &RawCommand) -> Result<Command, CompileError> {
        let name = c.name.as_str();
        let what = format!("`{name}`");
        if !COMMANDS.contains(&name) {
            let hint = match suggest(name, COMMANDS) {
                Some(s) => format!(", did you mean `{s}`?"),
                None => match suggest(name, TESTS) {
                    Some(t) => format!(" (`{t}` is a test: use it inside `if`)"),
                    None => String::new(),
                },
            };
            return err(c.pos, format!("unknown command `{name}`{hint}"));
        }
        if let Some(ext) = command_ext(name) {
            self.need(ext, c.pos, &format!("command {what}"))?;
        }
        let takes_block = name == "foreverypart";
        match (&c.block, takes_block) {
            (Some(_), false) => return err(c.pos, format!("command {what} does not take a block; end it with `;`")),
            (None, true) => return err(c.pos, format!("command {what} needs a block `{{ ... }}`")),
            _ => {}
        }
        self.no_tests(&format!("command {what}"), c.pos, &c.tests)?;
        let pos = c.pos;
        let kind = match name {
            "stop" | "discard" | "return" => {
                let (_, a) = self.tags(&what, &c.args, &[])?;
                self.positional(&what, pos, a, &[], false)?;
                match name {
                    "stop" => CommandKind::Stop,
                    "discard" => CommandKind::Discard,
                    _ => CommandKind::Return,
                }
            }
            "keep" => {
                let (t, a) = self.tags(&what, &c.args, &[&[("flags", TagArg::List, Some("imap4flags"))]])?;
                self.positional(&what, pos, a, &[], false)?;
                CommandKind::Keep { flags: t.list("flags").map(|l| l.iter().map(|s| self.s(s)).collect()) }
            }
            "fileinto" => {
                let (t, a) = self.tags(
                    &what,
                    &c.args,
                    &[&[
                        ("copy", TagArg::None, Some("copy")),
                        ("create", TagArg::None, Some("mailbox")),
                        ("flags", TagArg::List, Some("imap4flags")),
                        ("specialuse", TagArg::Str, Some("special-use")),
                    ]],
                )?;
                let a = self.positional(&what, pos, a, &[(Kind::Str, "mailbox")], false)?;
                let mailbox = self.string(&a[0]);
                if mailbox.as_const().is_some_and(|m| m.is_empty()) {
                    return err(a[0].pos(), "`fileinto`: the mailbox name is empty");
                }
                CommandKind::FileInto {
                    mailbox,
                    copy: t.has("copy"),
                    create: t.has("create"),
                    flags: t.list("flags").map(|l| l.iter().map(|s| self.s(s)).collect()),
                    special_use: t.string("specialuse").map(|(s, _)| self.s(s)),
                }
            }
            "redirect" => {
                let (t, a) = self.tags(&what, &c.args, &[&[("copy", TagArg::None, Some("copy"))]])?;
                let a = self.positional(&what, pos, a, &[(Kind::Str, "address")], false)?;
                let address = self.string(&a[0]);
                if let Some(addr) = address.as_const() {
                    if !crate::interpret::address::valid_mailbox(&addr) {
                        return err(a[0].pos(), format!("`redirect`: \"{addr}\" is not a valid e-mail address"));
                    }
                }
                CommandKind::Redirect { address, copy: t.has("copy") }
            }
            "reject" | "ereject" => {
                let (_, a) = self.tags(&what, &c.args, &[])?;
                let a = self.positional(&what, pos, a, &[(Kind::Str, "reason")], false)?;
                CommandKind::Reject { reason: self.string(&a[0]), extended: name == "ereject" }
            }
            "setflag" | "addflag" | "removeflag" => {
                let (_, a) = self.tags(&what, &c.args, &[])?;
                let a = self.positional(&what, pos, a, &[(Kind::Str, "variable name"), (Kind::List, "flags")], true)?;
                let (var, flags) = if a.len() == 2 {
                    self.need("variables", a[0].pos(), &format!("the variable argument of {what}"))?;
                    (Some(self.var_name(&a[0], &what)?), self.list(&a[1]))
                } else {
                    (None, self.list(&a[0]))
                };
                CommandKind::Flags {
                    op: match name {
                        "setflag" => FlagOp::Set,
                        "addflag" => FlagOp::Add,
                        _ => FlagOp::Remove,
                    },
                    var,
                    flags,
                }
            }
            "set" => {
                let (t, a) = self.tags(&what, &c.args, &[SET_TAGS])?;
                let a = self.positional(&what, pos, a, &[(Kind::Str, "name"), (Kind::Str, "value")], false)?;
                let name = self.var_name(&a[0], &what)?;
                CommandKind::Set { name, value: self.string(&a[1]), modifiers: self.set_modifiers(&t)? }
            }
            "vacation" => {
                let (t, a) = self.tags(
                    &what,
                    &c.args,
                    &[&[
                        ("days", TagArg::Num, None),
                        ("seconds", TagArg::Num, Some("vacation-seconds")),
                        ("subject", TagArg::Str, None),
                        ("from", TagArg::Str, None),
                        ("addresses", TagArg::List, None),
                        ("mime", TagArg::None, None),
                        ("handle", TagArg::Str, None),
                        ("flags", TagArg::List, Some("imap4flags")),
                    ]],
                )?;
                self.exclusive(&what, &t, &["days", "seconds"])?;
                let a = self.positional(&what, pos, a, &[(Kind::Str, "reason")], false)?;
                let period = match (t.num("days"), t.num("seconds")) {
                    (Some(d), _) => Some(d.saturating_mul(86_400)),
                    (_, Some(s)) => Some(s),
                    _ => None,
                };
                let from = t.string("from").map(|(s, _)| self.s(s));
                if let Some((f, p)) = t.string("from") {
                    let f = self.const_s(f);
                    if !f.contains("${") && crate::interpret::address::parse_addresses(&f).is_empty() {
                        return err(p, format!("`vacation`: :from \"{f}\" is not a valid address"));
                    }
                }
                CommandKind::Vacation {
                    reason: self.string(&a[0]),
                    subject: t.string("subject").map(|(s, _)| self.s(s)),
                    from,
                    addresses: t.list("addresses").unwrap_or_default().iter().map(|s| self.s(s)).collect(),
                    period,
                    mime: t.has("mime"),
                    handle: t.string("handle").map(|(s, _)| self.s(s)),
                    flags: t.list("flags").map(|l| l.iter().map(|s| self.s(s)).collect()),
                }
            }
            "addheader" => {
                let (t, a) = self.tags(&what, &c.args, &[&[("last", TagArg::None, None)]])?;
                let a = self.positional(&what, pos, a, &[(Kind::Str, "field-name"), (Kind::Str, "value")], false)?;
                let fname = self.string(&a[0]);
                if let Some(n) = fname.as_const() {
                    if !valid_field_name(&n) {
                        return err(a[0].pos(), format!("`addheader`: \"{n}\" is not a valid header field name"));
                    }
                }
                CommandKind::AddHeader { last: t.has("last"), name: fname, value: self.string(&a[1]) }
            }
            "deleteheader" => {
                let (t, a) = self.tags(
                    &what,
                    &c.args,
                    &[MATCH_TAGS, &[("index", TagArg::Num, None), ("last", TagArg::None, None)]],
                )?;
                let index = match (t.num("index"), t.get("last")) {
                    (Some(0), _) => return err(pos, "`deleteheader`: :index counts from 1"),
                    (Some(n), l) => Some(Index { n, last: l.is_some() }),
                    (None, Some((_, p, _))) => return err(*p, "`deleteheader`: `:last` needs `:index`"),
                    _ => None,
                };
                let a = if a.len() <= 1 {
                    self.positional(&what, pos, a, &[(Kind::Str, "field-name")], false)?
                } else {
                    self.positional(&what, pos, a, &[(Kind::Str, "field-name"), (Kind::List, "value-patterns")], false)?
                };
                let fname = self.string(&a[0]);
                if let Some(n) = fname.as_const() {
                    if !valid_field_name(&n) {
                        return err(a[0].pos(), format!("`deleteheader`: \"{n}\" is not a valid header field name"));
                    }
                }
                let (m, values) = if let Some(v) = a.get(1) {
                    (Some(self.matcher(&what, &t, v)?), self.list(v))
                } else {
                    if let Some(x) =
                        t.items.iter().find(|(n, _, _)| MATCH_GROUP.contains(&n.as_str()) || n == "comparator")
                    {
                        return err(
                            x.1,
                            format!("`deleteheader`: `:{}` needs value patterns after the field name", x.0),
                        );
                    }
                    (None, Vec::new())
                };
                CommandKind::DeleteHeader { index, m, name: fname, values }
            }
            "include" => {
                let (t, a) = self.tags(
                    &what,
                    &c.args,
                    &[&[
                        ("personal", TagArg::None, None),
                        ("global", TagArg::None, None),
                        ("once", TagArg::None, None),
                        ("optional", TagArg::None, None),
                    ]],
                )?;
                let loc = self.exclusive(&what, &t, &["personal", "global"])?;
                let a = self.positional(&what, pos, a, &[(Kind::Str, "script name")], false)?;
                let sname = self.raw_string(&a[0]);
                if sname.is_empty() || sname.contains('/') || sname.chars().any(|c| c.is_control()) {
                    return err(a[0].pos(), format!("`include`: \"{sname}\" is not a valid script name"));
                }
                CommandKind::Include {
                    location: if loc.as_deref() == Some("global") {
                        IncludeLocation::Global
                    } else {
                        IncludeLocation::Personal
                    },
                    once: t.has("once"),
                    optional: t.has("optional"),
                    name: Str::lit(sname),
                }
            }
            "global" => {
                self.need("variables", pos, "command `global`")?;
                let (_, a) = self.tags(&what, &c.args, &[])?;
                let a = self.positional(&what, pos, a, &[(Kind::List, "variable names")], false)?;
                let mut names = Vec::new();
                for n in self.raw_list(&a[0]) {
                    if !is_identifier(&n) {
                        return err(a[0].pos(), format!("`global`: \"{n}\" is not a valid variable name"));
                    }
                    names.push(n.to_ascii_lowercase());
                }
                CommandKind::Global(names)
            }
            "foreverypart" => {
                let (t, a) = self.tags(&what, &c.args, &[&[("name", TagArg::Str, None)]])?;
                self.positional(&what, pos, a, &[], false)?;
                let lname = t.string("name").map(|(s, _)| self.const_s(s));
                self.loops.push(lname.clone());
                let body = self.block(c.block.as_deref().unwrap_or(&[]), false);
                self.loops.pop();
                CommandKind::ForEveryPart { name: lname, body: body? }
            }
            "break" => {
                let (t, a) = self.tags(&what, &c.args, &[&[("name", TagArg::Str, None)]])?;
                self.positional(&what, pos, a, &[], false)?;
                let lname = t.string("name").map(|(s, _)| self.const_s(s));
                if self.loops.is_empty() {
                    return err(pos, "`break` outside of `foreverypart`");
                }
                if let Some(n) = &lname {
                    if !self.loops.iter().any(|l| l.as_deref() == Some(n.as_str())) {
                        return err(pos, format!("`break :name \"{n}\"`: no enclosing `foreverypart :name \"{n}\"`"));
                    }
                }
                CommandKind::Break { name: lname }
            }
            "extracttext" => {
                self.need("variables", pos, "command `extracttext`")?;
                let mut tagspec: Vec<TagSpec> = SET_TAGS.to_vec();
                tagspec.push(("first", TagArg::Num, None));
                let (t, a) = self.tags(&what, &c.args, &[&tagspec])?;
                let a = self.positional(&what, pos, a, &[(Kind::Str, "variable name")], false)?;
                if self.loops.is_empty() {
                    return err(pos, "`extracttext` must be used inside `foreverypart`");
                }
                CommandKind::ExtractText {
                    modifiers: self.set_modifiers(&t)?,
                    first: t.num("first"),
                    var: self.var_name(&a[0], &what)?,
                }
            }
            "error" => {
                let (_, a) = self.tags(&what, &c.args, &[])?;
                let a = self.positional(&what, pos, a, &[(Kind::Str, "message")], false)?;
                CommandKind::Error(self.string(&a[0]))
            }
            _ => return err(pos, format!("command {what} is not allowed here")),
        };
        Ok(Command { pos, kind })
    }

    fn test(&mut self, t: &RawTest) -> Result<Test, CompileError> {
        let name = t.name.as_str();
        let what = format!("test `{name}`");
        let pos = t.pos;
        if !TESTS.contains(&name) {
            let hint = match suggest(name, TESTS) {
                Some(s) => format!(", did you mean `{s}`?"),
                None => match suggest(name, COMMANDS) {
                    Some(c) => format!(" (`{c}` is a command, not a test)"),
                    None => String::new(),
                },
            };
            return err(pos, format!("unknown test `{name}`{hint}"));
        }
        if let Some(ext) = test_ext(name) {
            self.need(ext, pos, &what)?;
        }
        match name {
            "not" | "allof" | "anyof" => {}
            _ => {
                if let Some(sub) = t.tests.first() {
                    return err(sub.pos, format!("{what} does not take tests (found `{}`)", sub.name));
                }
            }
        }
        let kind = match name {
            "true" | "false" => {
                let (_, a) = self.tags(&what, &t.args, &[])?;
                self.positional(&what, pos, a, &[], false)?;
                if name == "true" {
                    TestKind::True
                } else {
                    TestKind::False
                }
            }
            "not" => {
                let (_, a) = self.tags(&what, &t.args, &[])?;
                self.positional(&what, pos, a, &[], false)?;
                if t.tests.len() != 1 || t.test_list {
                    return err(pos, "`not` takes exactly one test (not a list)");
                }
                TestKind::Not(Box::new(self.test(&t.tests[0])?))
            }
            "allof" | "anyof" => {
                let (_, a) = self.tags(&what, &t.args, &[])?;
                self.positional(&what, pos, a, &[], false)?;
                if !t.test_list || t.tests.is_empty() {
                    return err(pos, format!("`{name}` takes a list of tests in parentheses: {name}(test1, test2)"));
                }
                let mut v = Vec::new();
                for s in &t.tests {
                    v.push(self.test(s)?);
                }
                if name == "allof" {
                    TestKind::AllOf(v)
                } else {
                    TestKind::AnyOf(v)
                }
            }
            "address" => {
                let (tg, a) = self.tags(&what, &t.args, &[MATCH_TAGS, ADDR_TAGS, INDEX_TAGS, &MIME_TAGS[..2]])?;
                let a =
                    self.positional(&what, pos, a, &[(Kind::List, "header-list"), (Kind::List, "key-list")], false)?;
                TestKind::Address {
                    m: self.matcher(&what, &tg, &a[1])?,
                    part: self.addr_part(&what, &tg)?,
                    index: self.index(&what, &tg)?,
                    mime: self.mime(&what, &tg)?,
                    headers: self.list(&a[0]),
                }
            }
            "envelope" => {
                let (tg, a) = self.tags(&what, &t.args, &[MATCH_TAGS, ADDR_TAGS])?;
                let a =
                    self.positional(&what, pos, a, &[(Kind::List, "envelope-part"), (Kind::List, "key-list")], false)?;
                let fields = self.list(&a[0]);
                for f in &fields {
                    if let Some(c) = f.as_const() {
                        let lc = c.to_ascii_lowercase();
                        if !["from", "to", "auth", "orcpt", "envid", "notify", "ret"].contains(&lc.as_str()) {
                            let hint = did_you_mean(&lc, &["from", "to"]);
                            return err(
                                a[0].pos(),
                                format!("unknown envelope part \"{c}\" (use \"from\" or \"to\"){hint}"),
                            );
                        }
                    }
                }
                TestKind::Envelope { m: self.matcher(&what, &tg, &a[1])?, part: self.addr_part(&what, &tg)?, fields }
            }
            "header" => {
                let (tg, a) = self.tags(&what, &t.args, &[MATCH_TAGS, INDEX_TAGS, MIME_TAGS])?;
                let a =
                    self.positional(&what, pos, a, &[(Kind::List, "header-names"), (Kind::List, "key-list")], false)?;
                TestKind::Header {
                    m: self.matcher(&what, &tg, &a[1])?,
                    index: self.index(&what, &tg)?,
                    mime: self.mime(&what, &tg)?,
                    headers: self.list(&a[0]),
                }
            }
            "exists" => {
                let (tg, a) = self.tags(&what, &t.args, &[&MIME_TAGS[..2]])?;
                let a = self.positional(&what, pos, a, &[(Kind::List, "header-names")], false)?;
                TestKind::Exists { headers: self.list(&a[0]), mime: self.mime(&what, &tg)? }
            }
            "size" => {
                let (tg, a) =
                    self.tags(&what, &t.args, &[&[("over", TagArg::None, None), ("under", TagArg::None, None)]])?;
                let which = self.exclusive(&what, &tg, &["over", "under"])?;
                let Some(which) = which else {
                    return err(pos, "`size` needs `:over` or `:under`, e.g. size :over 100K");
                };
                let a = self.positional(&what, pos, a, &[(Kind::Num, "limit")], false)?;
                let limit = match a[0] {
                    RawArg::Number(n, _) => n,
                    _ => 0,
                };
                TestKind::Size { over: which == "over", limit }
            }
            "body" => {
                let (tg, a) = self.tags(
                    &what,
                    &t.args,
                    &[
                        MATCH_TAGS,
                        &[("raw", TagArg::None, None), ("content", TagArg::List, None), ("text", TagArg::None, None)],
                    ],
                )?;
                let tr = self.exclusive(&what, &tg, &["raw", "content", "text"])?;
                let a = self.positional(&what, pos, a, &[(Kind::List, "key-list")], false)?;
                let m = self.matcher(&what, &tg, &a[0])?;
                if matches!(m.match_type, MatchType::Count(_)) {
                    return err(pos, "`body` does not support :count");
                }
                TestKind::Body {
                    m,
                    transform: match tr.as_deref() {
                        Some("raw") => BodyTransform::Raw,
                        Some("content") => BodyTransform::Content(
                            tg.list("content").unwrap_or_default().iter().map(|s| self.s(s)).collect(),
                        ),
                        _ => BodyTransform::Text,
                    },
                }
            }
            "string" => {
                let (tg, a) = self.tags(&what, &t.args, &[MATCH_TAGS])?;
                let a = self.positional(&what, pos, a, &[(Kind::List, "source"), (Kind::List, "key-list")], false)?;
                TestKind::String { m: self.matcher(&what, &tg, &a[1])?, sources: self.list(&a[0]) }
            }
            "hasflag" => {
                let (tg, a) = self.tags(&what, &t.args, &[MATCH_TAGS])?;
                let a =
                    self.positional(&what, pos, a, &[(Kind::List, "variable-list"), (Kind::List, "flags")], true)?;
                let (vars, keys) = if a.len() == 2 {
                    self.need("variables", a[0].pos(), "the variable list of `hasflag`")?;
                    (self.list(&a[0]), &a[1])
                } else {
                    (Vec::new(), &a[0])
                };
                TestKind::HasFlag { m: self.matcher(&what, &tg, keys)?, vars }
            }
            "date" => {
                let (tg, a) = self.tags(
                    &what,
                    &t.args,
                    &[MATCH_TAGS, INDEX_TAGS, &[("zone", TagArg::Str, None), ("originalzone", TagArg::None, None)]],
                )?;
                self.exclusive(&what, &tg, &["zone", "originalzone"])?;
                let a = self.positional(
                    &what,
                    pos,
                    a,
                    &[(Kind::Str, "header-name"), (Kind::Str, "date-part"), (Kind::List, "key-list")],
                    false,
                )?;
                TestKind::Date {
                    m: self.matcher(&what, &tg, &a[2])?,
                    index: self.index(&what, &tg)?,
                    zone: self.zone(&tg)?,
                    header: self.string(&a[0]),
                    part: self.date_part(&a[1])?,
                }
            }
            "currentdate" => {
                let (tg, a) = self.tags(&what, &t.args, &[MATCH_TAGS, &[("zone", TagArg::Str, None)]])?;
                let a = self.positional(&what, pos, a, &[(Kind::Str, "date-part"), (Kind::List, "key-list")], false)?;
                TestKind::CurrentDate {
                    m: self.matcher(&what, &tg, &a[1])?,
                    zone: self.zone(&tg)?,
                    part: self.date_part(&a[0])?,
                }
            }
            "mailboxexists" => {
                let (_, a) = self.tags(&what, &t.args, &[])?;
                let a = self.positional(&what, pos, a, &[(Kind::List, "mailbox-names")], false)?;
                TestKind::MailboxExists(self.list(&a[0]))
            }
            "specialuse_exists" => {
                let (_, a) = self.tags(&what, &t.args, &[])?;
                let a =
                    self.positional(&what, pos, a, &[(Kind::Str, "mailbox"), (Kind::List, "special-use-flags")], true)?;
                let (mailbox, uses) =
                    if a.len() == 2 { (Some(self.string(&a[0])), self.list(&a[1])) } else { (None, self.list(&a[0])) };
                TestKind::SpecialUseExists { mailbox, uses }
            }
            "spamtest" => {
                let (tg, a) =
                    self.tags(&what, &t.args, &[MATCH_TAGS, &[("percent", TagArg::None, Some("spamtestplus"))]])?;
                let a = self.positional(&what, pos, a, &[(Kind::Str, "value")], false)?;
                TestKind::SpamTest { m: self.matcher(&what, &tg, &a[0])?, percent: tg.has("percent") }
            }
            "virustest" => {
                let (tg, a) = self.tags(&what, &t.args, &[MATCH_TAGS])?;
                let a = self.positional(&what, pos, a, &[(Kind::Str, "value")], false)?;
                TestKind::VirusTest { m: self.matcher(&what, &tg, &a[0])? }
            }
            "environment" => {
                let (tg, a) = self.tags(&what, &t.args, &[MATCH_TAGS])?;
                let a = self.positional(&what, pos, a, &[(Kind::Str, "name"), (Kind::List, "key-list")], false)?;
                TestKind::Environment { m: self.matcher(&what, &tg, &a[1])?, name: self.string(&a[0]) }
            }
            "duplicate" => {
                let (tg, a) = self.tags(
                    &what,
                    &t.args,
                    &[&[
                        ("handle", TagArg::Str, None),
                        ("header", TagArg::Str, None),
                        ("uniqueid", TagArg::Str, None),
                        ("seconds", TagArg::Num, None),
                        ("last", TagArg::None, None),
                    ]],
                )?;
                self.exclusive(&what, &tg, &["header", "uniqueid"])?;
                self.positional(&what, pos, a, &[], false)?;
                let source = if let Some((h, _)) = tg.string("header") {
                    DupSource::Header(self.s(h))
                } else if let Some((u, _)) = tg.string("uniqueid") {
                    DupSource::UniqueId(self.s(u))
                } else {
                    DupSource::MessageId
                };
                TestKind::Duplicate {
                    handle: tg.string("handle").map(|(s, _)| self.s(s)),
                    source,
                    seconds: tg.num("seconds"),
                    last: tg.has("last"),
                }
            }
            "ihave" => {
                let (_, a) = self.tags(&what, &t.args, &[])?;
                let a = self.positional(&what, pos, a, &[(Kind::List, "capabilities")], false)?;
                let all = self.raw_list(&a[0]).iter().all(|e| self.c.supported(&e.to_ascii_lowercase()));
                TestKind::Ihave(all)
            }
            _ => return err(pos, format!("{what} is not allowed here")),
        };
        Ok(Test { pos, kind })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(s: &str) -> Result<Script, CompileError> {
        Compiler::default().compile(s)
    }

    #[test]
    fn did_you_mean_test() {
        let e = compile("require \"fileinto\";\n\nif true {\n  if hedaer :is \"a\" \"b\" { keep; }\n}").unwrap_err();
        assert_eq!(e.to_string(), "line 4, column 6: unknown test `hedaer`, did you mean `header`?");
        let e = compile("fileinot \"x\";").unwrap_err();
        assert!(e.message.contains("did you mean `fileinto`"), "{e}");
        let e = compile("require \"fileinot\";").unwrap_err();
        assert!(e.message.contains("did you mean `fileinto`"), "{e}");
        let e = compile("if header :contians \"a\" \"b\" {}").unwrap_err();
        assert!(e.message.contains("did you mean `:contains`"), "{e}");
    }

    #[test]
    fn variables_parse() {
        assert_eq!(
            parse_variables("a${b}c${1}${x.y}${bad-}"),
            Str(vec![
                StrPart::Lit("a".into()),
                StrPart::Var("b".into()),
                StrPart::Lit("c".into()),
                StrPart::Match(1),
                StrPart::Var("x.y".into()),
                StrPart::Lit("${bad-}".into()),
            ])
        );
    }

    #[test]
    fn encoded_character() {
        assert_eq!(decode_encoded_characters("${hex:40}"), "@");
        assert_eq!(decode_encoded_characters("${hex: 40 41 }x"), "@Ax");
        assert_eq!(decode_encoded_characters("${unicode:40}"), "@");
        assert_eq!(decode_encoded_characters("$${hex:40}"), "$@");
        assert_eq!(decode_encoded_characters("${hex:4}${hex:zz}"), "\u{4}${hex:zz}");
        assert_eq!(decode_encoded_characters("${unicode:110000}"), "${unicode:110000}");
    }

    #[test]
    fn suggest_distance() {
        assert_eq!(suggest("hedaer", TESTS), Some("header"));
        assert_eq!(suggest("zzzzzz", TESTS), None);
    }
}
