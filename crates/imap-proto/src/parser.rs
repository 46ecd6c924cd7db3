//! The command parser (RFC 9051 §9 `command`).
//!
//! A hand-written recursive-descent parser over the fragments the connection
//! framed: a cursor walks the bytes of the current line; when the grammar
//! wants a string and finds a literal marker (`{N}`, `{N+}`, `~{N}`) at the
//! end of the line, it takes the next [`Fragment::Literal`] and continues at
//! the start of the following line.
//!
//! The parser never panics: every byte access is bounds-checked, and
//! recursion (search keys) is bounded.

use thiserror::Error;

use crate::{
    AppendMessage, CatPart, Command, CommandBody, Date, DateTime, FetchAttr, Flag, Fragment, ListCommand, Literal,
    LiteralHeader, MailboxName, MetadataDepth, MetadataOptions, NotifyEvent, NotifyFilter, NotifyGroup, NotifySet,
    PartialRange, QresyncParams, SearchKey, SearchReturn, Secret, Section, SectionText, SelectParams, SeqNum,
    SequenceSet, SortCriterion, SortKey, StatusItem, StoreAction, StoreMode, Tag, ThreadAlgorithm,
};

/// Most `cat-part`s in one CATENATE message (RFC 4469); each TEXT part is a
/// literal, which the connection limits separately.
pub const MAX_CAT_PARTS: usize = 1000;

/// Limits the parser enforces (the connection enforces line and literal sizes).
#[derive(Debug, Clone)]
pub struct ParseLimits {
    /// Deepest nesting of parenthesised lists (search keys, flag lists …).
    pub max_depth: usize,
}

impl Default for ParseLimits {
    fn default() -> Self {
        ParseLimits { max_depth: 32 }
    }
}

/// Why a command could not be parsed. `tag` is set when the tag itself was valid,
/// so the server can answer `tag BAD …`; otherwise it answers `* BAD …`.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("{message}")]
pub struct ParseError {
    pub tag: Option<Tag>,
    pub message: String,
}

/// Bound on search-key recursion through `NOT`/`OR` (independent of
/// parentheses), so that `NOT NOT NOT …` cannot exhaust the stack.
const MAX_RECURSION: usize = 256;

/// The event of that name (case-insensitive), `MessageNew` with `atts`.
fn event_named(name: Vec<u8>, atts: Vec<FetchAttr>) -> R<NotifyEvent> {
    Ok(match upper(&name).as_str() {
        "MESSAGENEW" => NotifyEvent::MessageNew(atts),
        "MESSAGEEXPUNGE" => NotifyEvent::MessageExpunge,
        "FLAGCHANGE" => NotifyEvent::FlagChange,
        "ANNOTATIONCHANGE" => NotifyEvent::AnnotationChange,
        "MAILBOXNAME" => NotifyEvent::MailboxName,
        "SUBSCRIPTIONCHANGE" => NotifyEvent::SubscriptionChange,
        "MAILBOXMETADATACHANGE" => NotifyEvent::MailboxMetadataChange,
        "SERVERMETADATACHANGE" => NotifyEvent::ServerMetadataChange,
        _ => NotifyEvent::Other(utf8(name, "event name")?),
    })
}

/// `ATOM-CHAR = <any CHAR except atom-specials>`
///
/// `atom-specials = "(" / ")" / "{" / SP / CTL / list-wildcards / quoted-specials / resp-specials`
pub fn is_atom_char(b: u8) -> bool {
    (0x21..0x7f).contains(&b) && !matches!(b, b'(' | b')' | b'{' | b'%' | b'*' | b'"' | b'\\' | b']')
}

/// `ASTRING-CHAR = ATOM-CHAR / resp-specials`
pub fn is_astring_char(b: u8) -> bool {
    is_atom_char(b) || b == b']'
}

/// `list-char = ATOM-CHAR / list-wildcards / resp-specials`
fn is_list_char(b: u8) -> bool {
    is_astring_char(b) || b == b'%' || b == b'*'
}

/// `number64 = 1*DIGIT` (at most 2^63-1).
fn parse_number64(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut n: u64 = 0;
    for &d in digits {
        n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    if n > i64::MAX as u64 {
        return None;
    }
    Some(n)
}

/// If `line` (without CRLF) ends with a literal marker `{N}`, `{N+}` or `~{N}`,
/// returns it.
///
/// `literal = "{" number64 ["+"] "}"`, `literal8 = "~{" number64 ["+"] "}"`
pub fn literal_header(line: &[u8]) -> Option<LiteralHeader> {
    let inner = line.strip_suffix(b"}")?;
    let open = inner.iter().rposition(|&b| b == b'{')?;
    let mut digits = inner.get(open + 1..)?;
    let mut sync = true;
    if let Some(d) = digits.strip_suffix(b"+") {
        digits = d;
        sync = false;
    }
    let len = parse_number64(digits)?;
    let binary = open > 0 && inner.get(open - 1) == Some(&b'~');
    Some(LiteralHeader { len, sync, binary })
}

/// The tag at the start of a line, if it is a valid tag followed by SP.
///
/// `tag = 1*<any ASTRING-CHAR except "+">`
pub fn peek_tag(line: &[u8]) -> Option<Tag> {
    let sp = line.iter().position(|&b| b == b' ')?;
    let tag = std::str::from_utf8(line.get(..sp)?).ok()?;
    Tag::new(tag)
}

/// Parses one complete command from its fragments.
///
/// `command = tag SP (command-any / command-auth / command-nonauth / command-select) CRLF`
pub fn parse_command(fragments: Vec<Fragment>, limits: &ParseLimits) -> Result<Command, ParseError> {
    // The tag, as far as it is valid, so that errors can be answered tagged.
    let tag = match fragments.first() {
        Some(Fragment::Line(l)) => {
            let end = l.iter().position(|&b| b == b' ').unwrap_or(l.len());
            l.get(..end).and_then(|t| std::str::from_utf8(t).ok()).and_then(Tag::new)
        }
        _ => None,
    };
    let err = |message: String| ParseError { tag: tag.clone(), message };

    let mut lines: Vec<Vec<u8>> = Vec::new();
    let mut lits: Vec<Option<Literal>> = Vec::new();
    for frag in fragments {
        match frag {
            Fragment::Line(l) if lines.len() == lits.len() => {
                if l.contains(&0) {
                    return Err(err("NUL byte in command".into()));
                }
                lines.push(l);
            }
            Fragment::Literal(lit) if lines.len() == lits.len() + 1 => lits.push(Some(lit)),
            _ => return Err(err("malformed command framing".into())),
        }
    }
    if lines.is_empty() {
        return Err(err("empty command".into()));
    }
    if lines.len() == lits.len() {
        // The command ended with a literal: what follows it is an empty line.
        lines.push(Vec::new());
    }

    let mut p = Parser { lines, lits, li: 0, pos: 0, max_depth: limits.max_depth, depth: 0, rec: 0 };
    p.command(tag.clone()).map_err(err)
}

/// Parses the section of an IMAP URL (RFC 5092 `enc-section`, already
/// percent-decoded): the text between `BODY[` and `]`, e.g. `1.2.MIME` or
/// `HEADER.FIELDS (From To)`.
pub fn parse_section(text: &[u8]) -> Result<Section, String> {
    let mut line = Vec::with_capacity(text.len() + 2);
    line.push(b'[');
    line.extend_from_slice(text);
    line.push(b']');
    if line.iter().any(|&b| matches!(b, 0 | b'\r' | b'\n')) {
        return Err("invalid section".into());
    }
    let mut p = Parser { lines: vec![line], lits: vec![None], li: 0, pos: 0, max_depth: 8, depth: 0, rec: 0 };
    let section = p.section()?;
    if !p.at_end() {
        return Err("unexpected characters after section".into());
    }
    Ok(section)
}

/// Parses a SASL continuation line (RFC 9051 §6.2.2): base64, or `*` to cancel
/// (`Ok(None)`).
///
/// `authenticate = "AUTHENTICATE" SP auth-type [SP initial-resp] *(CRLF base64)`
pub fn parse_sasl_response(line: &[u8]) -> Result<Option<Vec<u8>>, ParseError> {
    if line == b"*" {
        return Ok(None);
    }
    // An empty line is an empty response; "=" is accepted as in SASL-IR.
    if line == b"=" {
        return Ok(Some(Vec::new()));
    }
    base64_decode(line)
        .map(Some)
        .ok_or_else(|| ParseError { tag: None, message: "invalid base64 in SASL response".into() })
}

/// Standard base64 (RFC 4648 §4) decoding. Padding is optional but, when
/// present, must be correct; whitespace is not allowed.
fn base64_decode(input: &[u8]) -> Option<Vec<u8>> {
    fn val(b: u8) -> Option<u32> {
        Some(match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let data = match input.iter().position(|&b| b == b'=') {
        Some(p) => {
            let (data, pad) = input.split_at(p);
            if pad.len() > 2 || !pad.iter().all(|&b| b == b'=') || input.len() % 4 != 0 {
                return None;
            }
            data
        }
        None => input,
    };
    if data.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(data.len() / 4 * 3 + 2);
    for chunk in data.chunks(4) {
        let mut acc: u32 = 0;
        for &b in chunk {
            acc = (acc << 6) | val(b)?;
        }
        match chunk.len() {
            4 => out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]),
            3 => {
                acc <<= 6;
                out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8]);
            }
            2 => {
                acc <<= 12;
                out.push((acc >> 16) as u8);
            }
            _ => return None,
        }
    }
    Some(out)
}

/// Renders input bytes for an error message: printable ASCII, at most 24 bytes.
fn show(bytes: &[u8]) -> String {
    let mut s: String =
        bytes.iter().take(24).map(|&b| if (0x20..0x7f).contains(&b) { b as char } else { '?' }).collect();
    if bytes.len() > 24 {
        s.push('…');
    }
    s
}

fn upper(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_ascii_uppercase()
}

fn utf8(bytes: Vec<u8>, what: &str) -> Result<String, String> {
    String::from_utf8(bytes).map_err(|_| format!("invalid UTF-8 in {what}"))
}

type R<T> = Result<T, String>;

struct Parser {
    lines: Vec<Vec<u8>>,
    /// `lits[i]` follows `lines[i]`; taken when consumed.
    lits: Vec<Option<Literal>>,
    li: usize,
    pos: usize,
    max_depth: usize,
    depth: usize,
    rec: usize,
}

/// RFC 5464 METADATA and RFC 9590 LIST-METADATA additions to the grammar.
impl Parser {
    /// `entry = astring`, checked by [`crate::check_metadata_entry`]: an
    /// invalid name is BAD in any command (RFC 5464 §3.2).
    fn metadata_entry(&mut self, prefix_ok: bool) -> R<String> {
        let name = utf8(self.astring("entry name")?, "entry name")?;
        crate::check_metadata_entry(&name, prefix_ok)
            .map_err(|why| format!("invalid entry name {}: {why}", show(name.as_bytes())))?;
        Ok(name)
    }

    /// `entries = entry / "(" entry *(SP entry) ")"`. RFC 5464's own examples
    /// (§4.4.1) also list several entries without parentheses; accepted too.
    fn metadata_entries(&mut self) -> R<Vec<String>> {
        let mut v = Vec::new();
        if self.peek() == Some(b'(') {
            self.open("entries")?;
            loop {
                v.push(self.metadata_entry(true)?);
                if !self.eat(b' ') {
                    break;
                }
            }
            self.close("entries")?;
        } else {
            v.push(self.metadata_entry(true)?);
            while self.eat(b' ') {
                v.push(self.metadata_entry(true)?);
            }
        }
        Ok(v)
    }

    /// One `getmetadata-option`: `maxsize-opt = "MAXSIZE" SP number` or
    /// `scope-opt = "DEPTH" SP ("0" / "1" / "infinity")`. Returns false when
    /// the next word is not an option (nothing consumed).
    fn metadata_option(&mut self, opts: &mut MetadataOptions) -> R<bool> {
        if self.keyword("MAXSIZE") {
            self.sp("after MAXSIZE")?;
            opts.max_size = Some(self.number64("after MAXSIZE")?);
        } else if self.keyword("DEPTH") {
            self.sp("after DEPTH")?;
            opts.depth = match upper(&self.word()).as_str() {
                "0" => MetadataDepth::Zero,
                "1" => MetadataDepth::One,
                "INFINITY" => MetadataDepth::Infinity,
                _ => return Err("DEPTH must be 0, 1 or infinity".into()),
            };
        } else {
            return Ok(false);
        }
        Ok(true)
    }

    /// `getmetadata = "GETMETADATA" [SP getmetadata-options] SP mailbox SP entries`;
    /// `getmetadata-options = "(" getmetadata-option *(SP getmetadata-option) ")"`
    fn getmetadata(&mut self) -> R<CommandBody> {
        self.sp("after GETMETADATA")?;
        let mut options = MetadataOptions::default();
        if self.peek() == Some(b'(') {
            self.open("GETMETADATA options")?;
            loop {
                if !self.metadata_option(&mut options)? {
                    return Err(format!("unknown GETMETADATA option {}", show(self.rest())));
                }
                if !self.eat(b' ') {
                    break;
                }
            }
            self.close("GETMETADATA options")?;
            self.sp("after GETMETADATA options")?;
        }
        let mailbox = self.mailbox()?;
        self.sp("after mailbox name")?;
        // The examples of RFC 5464 §4.2.1–4.2.2 put the options after the
        // mailbox, against the grammar; clients copied them, so accept that.
        if options == MetadataOptions::default() && self.peek() == Some(b'(') {
            let (pos, depth) = (self.pos, self.depth);
            self.open("GETMETADATA options")?;
            if self.metadata_option(&mut options)? {
                while self.eat(b' ') {
                    if !self.metadata_option(&mut options)? {
                        return Err(format!("unknown GETMETADATA option {}", show(self.rest())));
                    }
                }
                self.close("GETMETADATA options")?;
                self.sp("after GETMETADATA options")?;
            } else {
                (self.pos, self.depth) = (pos, depth);
            }
        }
        Ok(CommandBody::GetMetadata { mailbox, options, entries: self.metadata_entries()? })
    }

    /// `setmetadata = "SETMETADATA" SP mailbox SP entry-values`;
    /// `entry-values = "(" entry-value *(SP entry-value) ")"`;
    /// `entry-value = entry SP value`; `value = nstring / literal8`.
    /// Literals may be spooled to a file: the session checks their size
    /// against its limit and answers `[METADATA MAXSIZE n]`.
    fn setmetadata(&mut self) -> R<CommandBody> {
        self.sp("after SETMETADATA")?;
        let mailbox = self.mailbox()?;
        self.sp("after mailbox name")?;
        self.open("entry values")?;
        let mut entries = Vec::new();
        loop {
            let entry = self.metadata_entry(false)?;
            self.sp("after entry name")?;
            let value = match self.peek() {
                Some(b'{' | b'~') => Some(self.literal(true, true)?.0),
                Some(b'"') => Some(Literal::Memory(self.quoted()?)),
                _ if self.keyword("NIL") => None,
                _ => return Err("expected a value (string, literal or NIL)".into()),
            };
            entries.push((entry, value));
            if !self.eat(b' ') {
                break;
            }
        }
        self.close("entry values")?;
        Ok(CommandBody::SetMetadata { mailbox, entries })
    }

    /// RFC 9590 `"METADATA" SP "(" … ")"`: the entries to return with each
    /// mailbox, with the GETMETADATA options (MAXSIZE, DEPTH) allowed among
    /// them, bare or in their own parenthesised group.
    fn list_metadata_opt(&mut self) -> R<(MetadataOptions, Vec<String>)> {
        let mut opts = MetadataOptions::default();
        let mut entries = Vec::new();
        self.open("METADATA return option")?;
        loop {
            if self.peek() == Some(b'(') {
                self.open("METADATA options")?;
                loop {
                    if !self.metadata_option(&mut opts)? {
                        entries.push(self.metadata_entry(true)?);
                    }
                    if !self.eat(b' ') {
                        break;
                    }
                }
                self.close("METADATA options")?;
            } else if !self.metadata_option(&mut opts)? {
                entries.push(self.metadata_entry(true)?);
            }
            if !self.eat(b' ') {
                break;
            }
        }
        self.close("METADATA return option")?;
        if entries.is_empty() {
            return Err("METADATA needs at least one entry name".into());
        }
        Ok((opts, entries))
    }
}

/// RFC 8474 OBJECTID and RFC 8514 SAVEDATE additions to the grammar.
impl Parser {
    /// `objectid = 1*255(ALPHA / DIGIT / "_" / "-")` (RFC 8474 §7)
    fn objectid(&mut self) -> R<String> {
        let id = self.take_while(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if id.is_empty() {
            return Err("expected object id".into());
        }
        if id.len() > 255 {
            return Err("object id longer than 255 characters".into());
        }
        Ok(String::from_utf8_lossy(&id).into_owned())
    }

    /// `search-key =/ "EMAILID" SP objectid / "THREADID" SP objectid` (RFC 8474 §6);
    /// `search-key =/ "SAVEDBEFORE" SP date / "SAVEDON" SP date / "SAVEDSINCE" SP date /
    /// "SAVEDATESUPPORTED"` (RFC 8514 §5). `None` when `w` is none of these.
    fn objectid_search_key(&mut self, w: &str) -> R<Option<SearchKey>> {
        Ok(Some(match w {
            "EMAILID" | "THREADID" => {
                self.sp(&format!("after {w}"))?;
                let id = self.objectid()?;
                if w == "EMAILID" {
                    SearchKey::EmailId(id)
                } else {
                    SearchKey::ThreadId(id)
                }
            }
            "SAVEDBEFORE" | "SAVEDON" | "SAVEDSINCE" => {
                self.sp(&format!("after {w}"))?;
                let d = self.date()?;
                match w {
                    "SAVEDBEFORE" => SearchKey::SavedBefore(d),
                    "SAVEDON" => SearchKey::SavedOn(d),
                    _ => SearchKey::SavedSince(d),
                }
            }
            "SAVEDATESUPPORTED" => SearchKey::SaveDateSupported,
            _ => return Ok(None),
        }))
    }

    /// `fetch-att =/ "EMAILID" / "THREADID"` (RFC 8474 §7); `fetch-att =/ "SAVEDATE"` (RFC 8514 §5)
    fn objectid_fetch_att(w: &str) -> Option<FetchAttr> {
        match w {
            "EMAILID" => Some(FetchAttr::EmailId),
            "THREADID" => Some(FetchAttr::ThreadId),
            "SAVEDATE" => Some(FetchAttr::SaveDate),
            _ => None,
        }
    }

    /// `status-att =/ "MAILBOXID"` (RFC 8474 §7)
    fn objectid_status_att(w: &str) -> Option<StatusItem> {
        (w == "MAILBOXID").then_some(StatusItem::MailboxId)
    }
}

impl Parser {
    // ---------------------------------------------------------------- cursor

    fn line(&self) -> &[u8] {
        self.lines.get(self.li).map(Vec::as_slice).unwrap_or(&[])
    }

    fn peek(&self) -> Option<u8> {
        self.line().get(self.pos).copied()
    }

    fn peek_at(&self, off: usize) -> Option<u8> {
        self.line().get(self.pos + off).copied()
    }

    fn rest(&self) -> &[u8] {
        self.line().get(self.pos..).unwrap_or(&[])
    }

    fn at_line_end(&self) -> bool {
        self.pos >= self.line().len()
    }

    fn at_end(&self) -> bool {
        self.at_line_end() && self.li + 1 >= self.lines.len()
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, b: u8, msg: &str) -> R<()> {
        if self.eat(b) {
            Ok(())
        } else {
            Err(msg.to_string())
        }
    }

    /// `SP`, with an error naming where it was expected.
    fn sp(&mut self, ctx: &str) -> R<()> {
        if self.eat(b' ') {
            Ok(())
        } else {
            Err(format!("expected SP {ctx}"))
        }
    }

    fn take_while(&mut self, f: impl Fn(u8) -> bool) -> Vec<u8> {
        let start = self.pos;
        while self.peek().is_some_and(&f) {
            self.pos += 1;
        }
        self.line().get(start..self.pos).map(<[u8]>::to_vec).unwrap_or_default()
    }

    /// A case-insensitive keyword, only if it is not followed by more atom characters.
    fn keyword(&mut self, kw: &str) -> bool {
        let rest = self.rest();
        let n = kw.len();
        if rest.len() >= n
            && rest.get(..n).is_some_and(|r| r.eq_ignore_ascii_case(kw.as_bytes()))
            && !rest.get(n).is_some_and(|&b| is_atom_char(b))
        {
            self.pos += n;
            true
        } else {
            false
        }
    }

    /// A name made of letters, digits, `.` and `-` (command names, options, fetch attributes).
    fn word(&mut self) -> Vec<u8> {
        self.take_while(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    }

    fn open(&mut self, what: &str) -> R<()> {
        if !self.eat(b'(') {
            return Err(format!("expected ( to start {what}"));
        }
        self.depth += 1;
        if self.depth > self.max_depth {
            return Err(format!("parentheses nested too deeply (limit {})", self.max_depth));
        }
        Ok(())
    }

    fn close(&mut self, what: &str) -> R<()> {
        if !self.eat(b')') {
            return Err(format!("expected ) to end {what}"));
        }
        self.depth = self.depth.saturating_sub(1);
        Ok(())
    }

    // --------------------------------------------------------------- numbers

    /// `number64 = 1*DIGIT`
    fn number64(&mut self, what: &str) -> R<u64> {
        let d = self.take_while(|b| b.is_ascii_digit());
        if d.is_empty() {
            return Err(format!("expected number {what}"));
        }
        parse_number64(&d).ok_or_else(|| format!("number too large {what}"))
    }

    /// `number = 1*DIGIT` (u32)
    fn number(&mut self, what: &str) -> R<u32> {
        let n = self.number64(what)?;
        u32::try_from(n).map_err(|_| format!("number too large {what}"))
    }

    /// `nz-number = digit-nz *DIGIT` (u32)
    fn nz_number(&mut self, what: &str) -> R<u32> {
        let n = self.number(what)?;
        if n == 0 {
            return Err(format!("expected non-zero number {what}"));
        }
        Ok(n)
    }

    /// `seq-number = nz-number / "*"`
    fn seq_number(&mut self) -> R<SeqNum> {
        if self.eat(b'*') {
            return Ok(SeqNum::Largest);
        }
        let d = self.take_while(|b| b.is_ascii_digit());
        if d.is_empty() {
            return Err("expected sequence set".into());
        }
        match parse_number64(&d).and_then(|n| u32::try_from(n).ok()) {
            Some(0) => Err("sequence number must not be 0".into()),
            Some(n) => Ok(SeqNum::Value(n)),
            None => Err("sequence number too large".into()),
        }
    }

    /// `sequence-set = (seq-number / seq-range) ["," sequence-set]`;
    /// `seq-range = seq-number ":" seq-number`; RFC 5182 `seq-last-command = "$"`
    fn sequence_set(&mut self) -> R<SequenceSet> {
        if self.eat(b'$') {
            return Ok(SequenceSet::Saved);
        }
        let mut ranges = Vec::new();
        loop {
            let a = self.seq_number()?;
            let b = if self.eat(b':') { self.seq_number()? } else { a };
            ranges.push((a, b));
            if !self.eat(b',') {
                break;
            }
        }
        Ok(SequenceSet::Ranges(ranges))
    }

    // --------------------------------------------------------------- strings

    /// `quoted = DQUOTE *QUOTED-CHAR DQUOTE`
    fn quoted(&mut self) -> R<Vec<u8>> {
        self.expect(b'"', "expected quoted string")?;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => return Err("unterminated quoted string".into()),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(c @ (b'"' | b'\\')) => {
                            out.push(c);
                            self.pos += 1;
                        }
                        _ => return Err("invalid escape in quoted string".into()),
                    }
                }
                Some(b'\r' | b'\n' | 0) => return Err("CR, LF or NUL in quoted string".into()),
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    /// `literal = "{" number64 ["+"] "}" CRLF *CHAR8`;
    /// `literal8 = "~{" number64 ["+"] "}" CRLF *OCTET` (RFC 3516, RFC 7888)
    fn literal(&mut self, allow_file: bool, allow_binary: bool) -> R<(Literal, bool)> {
        let binary = self.eat(b'~');
        if binary && !allow_binary {
            return Err("literal8 not allowed here".into());
        }
        self.expect(b'{', "expected literal")?;
        let d = self.take_while(|b| b.is_ascii_digit());
        let len = parse_number64(&d).ok_or("invalid literal length")?;
        self.eat(b'+');
        self.expect(b'}', "expected } after literal length")?;
        if !self.at_line_end() {
            return Err("literal marker must end the line".into());
        }
        let lit = self.lits.get_mut(self.li).and_then(Option::take).ok_or("missing literal data")?;
        if lit.len() != len {
            return Err("literal length mismatch".into());
        }
        match &lit {
            Literal::File { .. } if !allow_file => return Err("literal too large".into()),
            Literal::Memory(v) if !binary && v.contains(&0) => return Err("NUL byte in literal".into()),
            _ => {}
        }
        self.li += 1;
        self.pos = 0;
        Ok((lit, binary))
    }

    fn literal_bytes(&mut self) -> R<Vec<u8>> {
        match self.literal(false, false)?.0 {
            Literal::Memory(v) => Ok(v),
            Literal::File { .. } => Err("literal too large".into()),
        }
    }

    /// `string = quoted / literal`
    fn string(&mut self, what: &str) -> R<Vec<u8>> {
        match self.peek() {
            Some(b'"') => self.quoted(),
            Some(b'{') => self.literal_bytes(),
            _ => Err(format!("expected {what}")),
        }
    }

    /// `astring = 1*ASTRING-CHAR / string`
    fn astring(&mut self, what: &str) -> R<Vec<u8>> {
        match self.peek() {
            Some(b'"') => self.quoted(),
            Some(b'{') => self.literal_bytes(),
            Some(b) if is_astring_char(b) => Ok(self.take_while(is_astring_char)),
            _ => Err(format!("expected {what}")),
        }
    }

    /// `nstring = string / nil`
    fn nstring(&mut self, what: &str) -> R<Option<Vec<u8>>> {
        if self.keyword("NIL") {
            Ok(None)
        } else {
            self.string(what).map(Some)
        }
    }

    /// `atom = 1*ATOM-CHAR`
    fn atom(&mut self, what: &str) -> R<String> {
        let a = self.take_while(is_atom_char);
        if a.is_empty() {
            return Err(format!("expected {what}"));
        }
        utf8(a, what)
    }

    /// `mailbox = "INBOX" / astring`
    fn mailbox(&mut self) -> R<MailboxName> {
        let b = self.astring("mailbox name")?;
        Ok(MailboxName(utf8(b, "mailbox name")?))
    }

    /// `list-mailbox = 1*list-char / string`
    fn list_mailbox(&mut self) -> R<MailboxName> {
        let b = match self.peek() {
            Some(b'"') => self.quoted()?,
            Some(b'{') => self.literal_bytes()?,
            Some(b) if is_list_char(b) => self.take_while(is_list_char),
            _ => return Err("expected mailbox pattern".into()),
        };
        Ok(MailboxName(utf8(b, "mailbox pattern")?))
    }

    // ----------------------------------------------------------------- flags

    /// `flag = "\Answered" / "\Flagged" / "\Deleted" / "\Seen" / "\Draft" / flag-keyword / flag-extension`
    fn flag(&mut self) -> R<Flag> {
        let bs = self.eat(b'\\');
        let a = self.take_while(is_atom_char);
        if a.is_empty() {
            return Err("expected flag".into());
        }
        let mut s = if bs { String::from("\\") } else { String::new() };
        s.push_str(&utf8(a, "flag")?);
        Flag::parse(&s).ok_or_else(|| format!("invalid flag {}", show(s.as_bytes())))
    }

    /// `flag-list = "(" [flag *(SP flag)] ")"`
    fn flag_list(&mut self) -> R<Vec<Flag>> {
        self.open("flag list")?;
        let mut flags = Vec::new();
        if self.peek() != Some(b')') {
            loop {
                flags.push(self.flag()?);
                if !self.eat(b' ') {
                    break;
                }
            }
        }
        self.close("flag list")?;
        Ok(flags)
    }

    // ----------------------------------------------------------------- dates

    /// `date-month = "Jan" / "Feb" / … / "Dec"`
    fn month(&mut self) -> R<u8> {
        const MONTHS: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
        let m = self.take_while(|b| b.is_ascii_alphabetic());
        let u = upper(&m);
        MONTHS.iter().position(|&x| x == u).map(|i| i as u8 + 1).ok_or_else(|| "invalid month in date".to_string())
    }

    fn digits_exact(&mut self, n: usize, what: &str) -> R<u32> {
        let mut v = 0u32;
        for _ in 0..n {
            match self.peek() {
                Some(d) if d.is_ascii_digit() => {
                    v = v * 10 + u32::from(d - b'0');
                    self.pos += 1;
                }
                _ => return Err(format!("expected {n} digits in {what}")),
            }
        }
        Ok(v)
    }

    /// `date-text = date-day "-" date-month "-" date-year`; `date-day = 1*2DIGIT`
    /// (`day_space`: `date-day-fixed = (SP DIGIT) / 2DIGIT`)
    fn date_text(&mut self, day_space: bool) -> R<Date> {
        let day = if day_space && self.eat(b' ') {
            self.digits_exact(1, "day")?
        } else {
            let d = self.take_while(|b| b.is_ascii_digit());
            if d.is_empty() || d.len() > 2 {
                return Err("invalid day in date".into());
            }
            d.iter().fold(0u32, |a, &b| a * 10 + u32::from(b - b'0'))
        };
        self.expect(b'-', "expected - in date")?;
        let month = self.month()?;
        self.expect(b'-', "expected - in date")?;
        let year = self.digits_exact(4, "year")?;
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days = match month {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        if day == 0 || day > days {
            return Err("invalid day in date".into());
        }
        Ok(Date { year: year as u16, month, day: day as u8 })
    }

    /// `date = date-text / DQUOTE date-text DQUOTE`
    fn date(&mut self) -> R<Date> {
        let q = self.eat(b'"');
        let d = self.date_text(false)?;
        if q {
            self.expect(b'"', "expected closing quote after date")?;
        }
        Ok(d)
    }

    /// `date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE`;
    /// `time = 2DIGIT ":" 2DIGIT ":" 2DIGIT`; `zone = ("+" / "-") 4DIGIT`
    fn date_time(&mut self) -> R<DateTime> {
        self.expect(b'"', "expected date-time")?;
        let date = self.date_text(true)?;
        self.sp("before time in date-time")?;
        let hour = self.digits_exact(2, "time")?;
        self.expect(b':', "expected : in time")?;
        let minute = self.digits_exact(2, "time")?;
        self.expect(b':', "expected : in time")?;
        let second = self.digits_exact(2, "time")?;
        if hour > 23 || minute > 59 || second > 60 {
            return Err("invalid time in date-time".into());
        }
        self.sp("before zone in date-time")?;
        let neg = match self.peek() {
            Some(b'+') => false,
            Some(b'-') => true,
            _ => return Err("expected + or - in zone".into()),
        };
        self.pos += 1;
        let zh = self.digits_exact(2, "zone")?;
        let zm = self.digits_exact(2, "zone")?;
        if zm > 59 {
            return Err("invalid zone in date-time".into());
        }
        let z = (zh * 60 + zm) as i16;
        self.expect(b'"', "expected closing quote after date-time")?;
        Ok(DateTime {
            date,
            hour: hour as u8,
            minute: minute as u8,
            second: second as u8,
            zone_minutes: if neg { -z } else { z },
        })
    }

    // -------------------------------------------------------------- commands

    /// `command = tag SP (command-any / command-auth / command-nonauth / command-select) CRLF`
    fn command(&mut self, tag: Option<Tag>) -> R<Command> {
        let raw = self.take_while(is_astring_char);
        if raw.is_empty() {
            return Err(if self.at_end() { "empty command".into() } else { "missing tag".into() });
        }
        let tag = tag.ok_or("invalid tag")?;
        self.sp("after tag")?;
        let name = self.word();
        if name.is_empty() {
            return Err("expected command name".into());
        }
        let body = self.command_body(&upper(&name))?;
        if !self.at_end() {
            return Err(format!("unexpected characters after {} command", body.name()));
        }
        Ok(Command { tag, body })
    }

    fn command_body(&mut self, name: &str) -> R<CommandBody> {
        use CommandBody as C;
        Ok(match name {
            "CAPABILITY" => C::Capability,
            "NOOP" => C::Noop,
            "LOGOUT" => C::Logout,
            "STARTTLS" => C::StartTls,
            "IDLE" => C::Idle,
            "CHECK" => C::Check,
            "CLOSE" => C::Close,
            "UNSELECT" => C::Unselect,
            "EXPUNGE" => C::Expunge,
            "NAMESPACE" => C::Namespace,
            "UNAUTHENTICATE" => C::Unauthenticate,
            "CANCELUPDATE" => self.cancel_update()?,
            "GETQUOTA" | "GETQUOTAROOT" | "SETQUOTA" => self.quota_command(name)?,
            "GETMETADATA" => self.getmetadata()?,
            "SETMETADATA" => self.setmetadata()?,
            "AUTHENTICATE" => self.authenticate()?,
            "LOGIN" => self.login()?,
            "ENABLE" => self.enable()?,
            "SELECT" => self.select(false)?,
            "EXAMINE" => self.select(true)?,
            "CREATE" => self.create()?,
            "DELETE" => {
                self.sp("after DELETE")?;
                C::Delete { mailbox: self.mailbox()? }
            }
            "RENAME" => {
                self.sp("after RENAME")?;
                let from = self.mailbox()?;
                self.sp("after mailbox name")?;
                C::Rename { from, to: self.mailbox()? }
            }
            "SUBSCRIBE" => {
                self.sp("after SUBSCRIBE")?;
                C::Subscribe { mailbox: self.mailbox()? }
            }
            "UNSUBSCRIBE" => {
                self.sp("after UNSUBSCRIBE")?;
                C::Unsubscribe { mailbox: self.mailbox()? }
            }
            "LIST" => self.list()?,
            "LSUB" => self.lsub()?,
            "STATUS" => self.status()?,
            "APPEND" => self.append()?,
            "REPLACE" => self.replace(false)?,
            "SEARCH" => self.search(false)?,
            "FETCH" => self.fetch(false)?,
            "STORE" => self.store(false)?,
            "COPY" => self.copy_move(false, false)?,
            "MOVE" => self.copy_move(false, true)?,
            "ID" => self.id()?,
            "NOTIFY" => self.notify()?,
            // RFC 4978 §3 `compress = "COMPRESS" SP algorithm`
            "COMPRESS" => {
                self.sp("after COMPRESS")?;
                C::Compress { algorithm: self.atom("compression algorithm")?.to_ascii_uppercase() }
            }
            "SORT" => self.sort(false)?,
            "THREAD" => self.thread(false)?,
            "UID" => self.uid()?,
            _ => return Err(format!("unknown command {}", show(name.as_bytes()))),
        })
    }

    /// `command-select =/ "CANCELUPDATE" 1*(SP quoted)` (RFC 5267 §5)
    fn cancel_update(&mut self) -> R<CommandBody> {
        let mut tags = Vec::new();
        while self.eat(b' ') {
            let t = self.quoted()?;
            tags.push(String::from_utf8(t).map_err(|_| "CANCELUPDATE tag is not UTF-8".to_string())?);
        }
        if tags.is_empty() {
            return Err("CANCELUPDATE needs at least one quoted tag".into());
        }
        Ok(CommandBody::CancelUpdate { tags })
    }

    /// `notify = "NOTIFY" SP (notify-set / notify-none)`;
    /// `notify-set = "SET" [status-indicator] SP event-groups` (RFC 5465 §8)
    fn notify(&mut self) -> R<CommandBody> {
        self.sp("after NOTIFY")?;
        let w = upper(&self.word());
        match w.as_str() {
            "NONE" => return Ok(CommandBody::Notify(None)),
            "SET" => {}
            _ => return Err("expected SET or NONE after NOTIFY".into()),
        }
        self.sp("after NOTIFY SET")?;
        let mut status = false;
        if self.peek() != Some(b'(') {
            if upper(&self.word()) != "STATUS" {
                return Err("expected STATUS or an event group".into());
            }
            status = true;
            self.sp("after STATUS")?;
        }
        let mut groups = vec![self.notify_group()?];
        while self.eat(b' ') {
            groups.push(self.notify_group()?);
        }
        Ok(CommandBody::Notify(Some(NotifySet { status, groups })))
    }

    /// `event-group = "(" filter-mailboxes SP events ")"`;
    /// `events = ( "(" event *(SP event) ")" ) / "NONE"`
    fn notify_group(&mut self) -> R<NotifyGroup> {
        self.open("event group")?;
        let filter = match upper(&self.word()).as_str() {
            "SELECTED" => NotifyFilter::Selected,
            "SELECTED-DELAYED" => NotifyFilter::SelectedDelayed,
            "INBOXES" => NotifyFilter::Inboxes,
            "PERSONAL" => NotifyFilter::Personal,
            "SUBSCRIBED" => NotifyFilter::Subscribed,
            "SUBTREE" => {
                self.sp("after SUBTREE")?;
                NotifyFilter::Subtree(self.one_or_more_mailbox()?)
            }
            "MAILBOXES" => {
                self.sp("after MAILBOXES")?;
                NotifyFilter::Mailboxes(self.one_or_more_mailbox()?)
            }
            other => return Err(format!("unknown mailbox filter {}", show(other.as_bytes()))),
        };
        self.sp("after mailbox filter")?;
        let mut events = Vec::new();
        if self.peek() == Some(b'(') {
            self.open("events")?;
            loop {
                events.push(self.notify_event()?);
                if !self.eat(b' ') {
                    break;
                }
            }
            self.close("events")?;
        } else if self.keyword("NONE") {
        } else {
            // RFC 5465's own examples list events without parentheses
            // (`(selected MessageNew (uid) MessageExpunge)`); accept that too.
            loop {
                events.push(self.notify_event()?);
                if !self.eat(b' ') {
                    break;
                }
            }
        }
        self.close("event group")?;
        Ok(NotifyGroup { filter, events })
    }

    /// `one-or-more-mailbox = mailbox / many-mailboxes`
    fn one_or_more_mailbox(&mut self) -> R<Vec<MailboxName>> {
        if self.peek() != Some(b'(') {
            return Ok(vec![self.mailbox()?]);
        }
        self.open("mailbox list")?;
        let mut v = vec![self.mailbox()?];
        while self.eat(b' ') {
            v.push(self.mailbox()?);
        }
        self.close("mailbox list")?;
        Ok(v)
    }

    /// `event = message-event / mailbox-event / user-event / event-ext`;
    /// `message-event = ( "MessageNew" [SP "(" fetch-att *(SP fetch-att) ")" ] ) / …`
    fn notify_event(&mut self) -> R<NotifyEvent> {
        let w = self.word();
        if w.is_empty() {
            return Err("expected an event name".into());
        }
        let mut atts = Vec::new();
        if upper(&w) == "MESSAGENEW" && self.peek() == Some(b' ') && self.peek_at(1) == Some(b'(') {
            self.sp("after MessageNew")?;
            self.open("fetch attributes")?;
            atts.push(self.fetch_att()?);
            while self.eat(b' ') {
                atts.push(self.fetch_att()?);
            }
            self.close("fetch attributes")?;
        }
        event_named(w, atts)
    }

    /// `uid = "UID" SP (copy / move / fetch / search / store / uid-expunge)`
    fn uid(&mut self) -> R<CommandBody> {
        self.sp("after UID")?;
        let sub = upper(&self.word());
        Ok(match sub.as_str() {
            "COPY" => self.copy_move(true, false)?,
            "MOVE" => self.copy_move(true, true)?,
            "FETCH" => self.fetch(true)?,
            "SEARCH" => self.search(true)?,
            "STORE" => self.store(true)?,
            "SORT" => self.sort(true)?,
            "THREAD" => self.thread(true)?,
            "REPLACE" => self.replace(true)?,
            "EXPUNGE" => {
                self.sp("after UID EXPUNGE")?;
                CommandBody::UidExpunge { set: self.sequence_set()? }
            }
            "" => return Err("expected command after UID".into()),
            _ => return Err(format!("unknown command UID {}", show(sub.as_bytes()))),
        })
    }

    /// `authenticate = "AUTHENTICATE" SP auth-type [SP initial-resp]`;
    /// `initial-resp = (base64 / "=")` (RFC 4959)
    fn authenticate(&mut self) -> R<CommandBody> {
        self.sp("after AUTHENTICATE")?;
        let mechanism = self.atom("SASL mechanism name")?.to_ascii_uppercase();
        let initial_response = if self.eat(b' ') {
            let b = self.take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
            if b.is_empty() {
                return Err("expected initial response".into());
            }
            if b == b"=" {
                Some(Secret(Vec::new()))
            } else {
                Some(Secret(base64_decode(&b).ok_or("invalid base64 in initial response")?))
            }
        } else {
            None
        };
        Ok(CommandBody::Authenticate { mechanism, initial_response })
    }

    /// `login = "LOGIN" SP userid SP password`; `userid = astring`; `password = astring`
    fn login(&mut self) -> R<CommandBody> {
        self.sp("after LOGIN")?;
        let username = utf8(self.astring("user name")?, "user name")?;
        self.sp("after user name")?;
        let password = utf8(self.astring("password")?, "password")?;
        Ok(CommandBody::Login { username, password: Secret(password) })
    }

    /// `enable = "ENABLE" 1*(SP capability)`; `capability = atom` (upper-cased)
    fn enable(&mut self) -> R<CommandBody> {
        let mut capabilities = Vec::new();
        while self.eat(b' ') {
            capabilities.push(self.atom("capability name")?.to_ascii_uppercase());
        }
        if capabilities.is_empty() {
            return Err("expected SP and capability after ENABLE".into());
        }
        Ok(CommandBody::Enable { capabilities })
    }

    /// `select = "SELECT" SP mailbox [select-params]`;
    /// `select-params = SP "(" select-param *(SP select-param) ")"` (RFC 4466);
    /// `select-param =/ "CONDSTORE"` (RFC 7162)
    fn select(&mut self, read_only: bool) -> R<CommandBody> {
        self.sp(if read_only { "after EXAMINE" } else { "after SELECT" })?;
        let mailbox = self.mailbox()?;
        let mut params = SelectParams::default();
        if self.eat(b' ') {
            self.open("select parameters")?;
            if self.peek() != Some(b')') {
                loop {
                    let w = upper(&self.word());
                    match w.as_str() {
                        "CONDSTORE" => params.condstore = true,
                        "QRESYNC" => params.qresync = Some(self.qresync_params()?),
                        "" => return Err("expected select parameter".into()),
                        _ => return Err(format!("unsupported select parameter {}", show(w.as_bytes()))),
                    }
                    if !self.eat(b' ') {
                        break;
                    }
                }
            }
            self.close("select parameters")?;
        }
        Ok(CommandBody::Select { mailbox, read_only, params })
    }

    /// `select-param =/ "QRESYNC" SP "(" uidvalidity SP mod-sequence-value [SP known-uids]
    /// [SP seq-match-data] ")"`; `seq-match-data = "(" known-sequence-set SP known-uid-set ")"`
    /// (RFC 7162 §7)
    fn qresync_params(&mut self) -> R<QresyncParams> {
        self.sp("after QRESYNC")?;
        self.open("QRESYNC parameters")?;
        let uid_validity = self.nz_number("UIDVALIDITY")?;
        self.sp("after UIDVALIDITY")?;
        let modseq = self.number64("mod-sequence-value")?;
        let mut known_uids = None;
        let mut seq_match = None;
        if self.eat(b' ') {
            if self.peek() != Some(b'(') {
                known_uids = Some(self.sequence_set()?);
                if !self.eat(b' ') {
                    self.close("QRESYNC parameters")?;
                    return Ok(QresyncParams { uid_validity, modseq, known_uids, seq_match });
                }
            }
            self.open("seq-match-data")?;
            let seqs = self.sequence_set()?;
            self.sp("in seq-match-data")?;
            let uids = self.sequence_set()?;
            self.close("seq-match-data")?;
            seq_match = Some((seqs, uids));
        }
        self.close("QRESYNC parameters")?;
        Ok(QresyncParams { uid_validity, modseq, known_uids, seq_match })
    }

    /// `create = "CREATE" SP mailbox [create-params]`;
    /// `create-params = SP "(" create-param *(SP create-param) ")"`;
    /// `create-param =/ "USE" SP "(" [use-attr *(SP use-attr)] ")"` (RFC 6154)
    fn create(&mut self) -> R<CommandBody> {
        self.sp("after CREATE")?;
        let mailbox = self.mailbox()?;
        let mut special_use = Vec::new();
        if self.eat(b' ') {
            self.open("create parameters")?;
            loop {
                let w = upper(&self.word());
                if w != "USE" {
                    return Err(format!("unsupported create parameter {}", show(w.as_bytes())));
                }
                self.sp("after USE")?;
                self.open("special-use attributes")?;
                if self.peek() != Some(b')') {
                    loop {
                        self.expect(b'\\', "expected special-use attribute")?;
                        let a = self.atom("special-use attribute")?;
                        special_use.push(format!("\\{a}"));
                        if !self.eat(b' ') {
                            break;
                        }
                    }
                }
                self.close("special-use attributes")?;
                if !self.eat(b' ') {
                    break;
                }
            }
            self.close("create parameters")?;
        }
        Ok(CommandBody::Create { mailbox, special_use })
    }

    /// `list = "LIST" [SP list-select-opts] SP mailbox SP mbox-or-pat [SP list-return-opts]`;
    /// `list-select-opts = "(" [list-select-opt *(SP list-select-opt)] ")"`;
    /// `mbox-or-pat = list-mailbox / patterns`;
    /// `patterns = "(" list-mailbox *(SP list-mailbox) ")"`;
    /// `list-return-opts = "RETURN" SP "(" [return-option *(SP return-option)] ")"`
    fn list(&mut self) -> R<CommandBody> {
        self.sp("after LIST")?;
        let mut lc = ListCommand::default();
        if self.peek() == Some(b'(') {
            lc.extended = true;
            self.open("selection options")?;
            if self.peek() != Some(b')') {
                loop {
                    let w = upper(&self.word());
                    match w.as_str() {
                        "SUBSCRIBED" => lc.select.subscribed = true,
                        "REMOTE" => lc.select.remote = true,
                        "RECURSIVEMATCH" => lc.select.recursive_match = true,
                        "SPECIAL-USE" => lc.select.special_use = true,
                        "" => return Err("expected selection option".into()),
                        _ => return Err(format!("unknown LIST selection option {}", show(w.as_bytes()))),
                    }
                    if !self.eat(b' ') {
                        break;
                    }
                }
            }
            self.close("selection options")?;
            // RFC 5258 §3.1: RECURSIVEMATCH needs a base option other than REMOTE.
            if lc.select.recursive_match && !lc.select.subscribed && !lc.select.special_use {
                return Err("RECURSIVEMATCH requires another selection option".into());
            }
            self.sp("after selection options")?;
        }
        lc.reference = self.mailbox().map_err(|_| "expected reference name".to_string())?;
        self.sp("after reference name")?;
        if self.peek() == Some(b'(') {
            lc.extended = true;
            self.open("mailbox patterns")?;
            loop {
                lc.patterns.push(self.list_mailbox()?);
                if !self.eat(b' ') {
                    break;
                }
            }
            self.close("mailbox patterns")?;
        } else {
            lc.patterns.push(self.list_mailbox()?);
        }
        if self.eat(b' ') {
            if !self.keyword("RETURN") {
                return Err("expected RETURN after mailbox pattern".into());
            }
            lc.extended = true;
            self.sp("after RETURN")?;
            self.open("return options")?;
            if self.peek() != Some(b')') {
                loop {
                    let w = upper(&self.word());
                    match w.as_str() {
                        "SUBSCRIBED" => lc.ret.subscribed = true,
                        "CHILDREN" => lc.ret.children = true,
                        "SPECIAL-USE" => lc.ret.special_use = true,
                        "STATUS" => {
                            self.sp("after STATUS")?;
                            lc.ret.status = Some(self.status_atts()?);
                        }
                        "METADATA" => {
                            self.sp("after METADATA")?;
                            lc.ret.metadata = Some(self.list_metadata_opt()?);
                        }
                        "" => return Err("expected return option".into()),
                        _ => return Err(format!("unknown LIST return option {}", show(w.as_bytes()))),
                    }
                    if !self.eat(b' ') {
                        break;
                    }
                }
            }
            self.close("return options")?;
        }
        Ok(CommandBody::List(lc))
    }

    /// `lsub = "LSUB" SP mailbox SP list-mailbox` (RFC 3501)
    fn lsub(&mut self) -> R<CommandBody> {
        self.sp("after LSUB")?;
        let reference = self.mailbox().map_err(|_| "expected reference name".to_string())?;
        self.sp("after reference name")?;
        Ok(CommandBody::Lsub { reference, pattern: self.list_mailbox()? })
    }

    /// `"(" status-att *(SP status-att) ")"`;
    /// `status-att = "MESSAGES" / "UIDNEXT" / "UIDVALIDITY" / "UNSEEN" / "DELETED" / "SIZE" / "RECENT" / "HIGHESTMODSEQ"`
    fn status_atts(&mut self) -> R<Vec<StatusItem>> {
        self.open("status attributes")?;
        let mut items = Vec::new();
        loop {
            let w = upper(&self.word());
            items.push(match w.as_str() {
                "MESSAGES" => StatusItem::Messages,
                "RECENT" => StatusItem::Recent,
                "UIDNEXT" => StatusItem::UidNext,
                "UIDVALIDITY" => StatusItem::UidValidity,
                "UNSEEN" => StatusItem::Unseen,
                "DELETED" => StatusItem::Deleted,
                "SIZE" => StatusItem::Size,
                "HIGHESTMODSEQ" => StatusItem::HighestModSeq,
                "DELETED-STORAGE" => StatusItem::DeletedStorage,
                "APPENDLIMIT" => StatusItem::AppendLimit,
                "" => return Err("expected status attribute".into()),
                _ => match Self::objectid_status_att(&w) {
                    Some(item) => item,
                    None => return Err(format!("unknown status attribute {}", show(w.as_bytes()))),
                },
            });
            if !self.eat(b' ') {
                break;
            }
        }
        self.close("status attributes")?;
        Ok(items)
    }

    /// `status = "STATUS" SP mailbox SP "(" status-att *(SP status-att) ")"`
    fn status(&mut self) -> R<CommandBody> {
        self.sp("after STATUS")?;
        let mailbox = self.mailbox()?;
        self.sp("after mailbox name")?;
        Ok(CommandBody::Status { mailbox, items: self.status_atts()? })
    }

    /// `append = "APPEND" SP mailbox 1*append-message` (RFC 3502);
    /// `append-message = append-opts SP append-data`;
    /// `append-opts = [SP flag-list] [SP date-time]`; `append-data = literal / literal8`
    /// (RFC 9051: `append = "APPEND" SP mailbox [SP flag-list] [SP date-time] SP literal`)
    fn append(&mut self) -> R<CommandBody> {
        self.sp("after APPEND")?;
        let mailbox = self.mailbox()?;
        let mut messages = Vec::new();
        loop {
            self.sp(if messages.is_empty() { "after mailbox name" } else { "before next APPEND message" })?;
            messages.push(self.append_message()?);
            if self.at_line_end() {
                break;
            }
        }
        Ok(CommandBody::Append { mailbox, messages })
    }

    /// One `append-message` after its leading SP: `[flag-list SP] [date-time SP] append-data`.
    fn append_message(&mut self) -> R<AppendMessage> {
        let mut flags = Vec::new();
        if self.peek() == Some(b'(') {
            flags = self.flag_list()?;
            self.sp("after flag list")?;
        }
        let mut date = None;
        if self.peek() == Some(b'"') {
            date = Some(self.date_time()?);
            self.sp("after date-time")?;
        }
        if self.keyword("CATENATE") {
            let parts = self.catenate()?;
            return Ok(AppendMessage {
                flags,
                date,
                data: Literal::Memory(Vec::new()),
                binary: false,
                utf8: false,
                catenate: Some(parts),
            });
        }
        // RFC 6855 §4: `append-data =/ "UTF8" SP "(" literal8 ")"`
        let utf8 = self.keyword("UTF8");
        if utf8 {
            self.sp("after UTF8")?;
            self.open("UTF8 message data")?;
        }
        if !matches!(self.peek(), Some(b'{' | b'~')) {
            return Err("expected literal with message data".into());
        }
        let (data, binary) = self.literal(true, true)?;
        if utf8 {
            self.close("UTF8 message data")?;
        }
        Ok(AppendMessage { flags, date, data, binary, utf8, catenate: None })
    }

    /// RFC 4469 §5 `append-data =/ "CATENATE" SP "(" cat-part *(SP cat-part) ")"`;
    /// `cat-part = text-literal / url`; `text-literal = "TEXT" SP literal`;
    /// `url = "URL" SP astring`. With BINARY the literal may be a literal8.
    fn catenate(&mut self) -> R<Vec<CatPart>> {
        self.sp("after CATENATE")?;
        self.open("CATENATE parts")?;
        let mut parts = Vec::new();
        loop {
            if parts.len() >= MAX_CAT_PARTS {
                return Err(format!("too many CATENATE parts (limit {MAX_CAT_PARTS})"));
            }
            if self.keyword("TEXT") {
                self.sp("after TEXT")?;
                if !matches!(self.peek(), Some(b'{' | b'~')) {
                    return Err("expected literal after TEXT".into());
                }
                let (data, binary) = self.literal(true, true)?;
                parts.push(CatPart::Text { data, binary });
            } else if self.keyword("URL") {
                self.sp("after URL")?;
                parts.push(CatPart::Url(utf8(self.astring("URL")?, "URL")?));
            } else {
                return Err("expected TEXT or URL in CATENATE".into());
            }
            if !self.eat(b' ') {
                break;
            }
        }
        self.close("CATENATE parts")?;
        Ok(parts)
    }

    /// RFC 8508 §5 `replace = "REPLACE" SP seq-number SP mailbox append-message`
    fn replace(&mut self, uid: bool) -> R<CommandBody> {
        self.sp("after REPLACE")?;
        let target = self.seq_number()?;
        self.sp("after message number")?;
        let mailbox = self.mailbox()?;
        self.sp("after mailbox name")?;
        let message = self.append_message()?;
        Ok(CommandBody::Replace { uid, target, mailbox, message })
    }

    /// `search = "SEARCH" [search-return-opts] SP search-program`;
    /// `search-return-opts = SP "RETURN" SP "(" [search-return-opt *(SP search-return-opt)] ")"`;
    /// `search-program = ["CHARSET" SP charset SP] search-key *(SP search-key)`
    fn search(&mut self, uid: bool) -> R<CommandBody> {
        self.sp("after SEARCH")?;
        let ret = self.search_return_opts()?;
        if ret.is_some() {
            self.sp("after search return options")?;
        }
        let mut charset = None;
        if self.keyword("CHARSET") {
            self.sp("after CHARSET")?;
            charset = Some(utf8(self.astring("charset")?, "charset")?);
            self.sp("after charset")?;
        }
        let strict =
            charset.as_deref().is_none_or(|c| c.eq_ignore_ascii_case("UTF-8") || c.eq_ignore_ascii_case("US-ASCII"));
        let mut keys = vec![self.search_key(strict)?];
        while self.eat(b' ') {
            keys.push(self.search_key(strict)?);
        }
        let criteria = if keys.len() == 1 { keys.pop().unwrap_or(SearchKey::All) } else { SearchKey::And(keys) };
        Ok(CommandBody::Search { uid, charset, ret, criteria })
    }

    /// `search-return-opts = SP "RETURN" SP "(" [search-return-opt *(SP search-return-opt)] ")"`
    /// (RFC 4466 §2.6; RFC 4731 MIN/MAX/ALL/COUNT; RFC 5182 SAVE;
    /// RFC 9394 `modifier-partial = "PARTIAL" SP partial-range`;
    /// RFC 5267 `modifier-update = "UPDATE"`, `modifier-context = "CONTEXT"`), without the
    /// leading SP. An empty list means ALL. At most one of ALL and PARTIAL
    /// (RFC 9394 §3.1).
    fn search_return_opts(&mut self) -> R<Option<Vec<SearchReturn>>> {
        if !self.keyword("RETURN") {
            return Ok(None);
        }
        self.sp("after RETURN")?;
        self.open("search return options")?;
        let mut v = Vec::new();
        if self.peek() != Some(b')') {
            loop {
                let w = upper(&self.word());
                v.push(match w.as_str() {
                    "MIN" => SearchReturn::Min,
                    "MAX" => SearchReturn::Max,
                    "ALL" => SearchReturn::All,
                    "COUNT" => SearchReturn::Count,
                    "SAVE" => SearchReturn::Save,
                    "UPDATE" => SearchReturn::Update,
                    "CONTEXT" => SearchReturn::Context,
                    "PARTIAL" => {
                        self.sp("after PARTIAL")?;
                        SearchReturn::Partial(self.partial_range()?)
                    }
                    "" => return Err("expected search return option".into()),
                    _ => return Err(format!("unknown search return option {}", show(w.as_bytes()))),
                });
                if !self.eat(b' ') {
                    break;
                }
            }
        }
        self.close("search return options")?;
        if v.is_empty() {
            v.push(SearchReturn::All);
        }
        let partials = v.iter().filter(|o| matches!(o, SearchReturn::Partial(_))).count();
        if partials > 1 || (partials == 1 && v.contains(&SearchReturn::All)) {
            return Err("at most one of ALL and PARTIAL may be given".into());
        }
        Ok(Some(v))
    }

    /// `partial-range = partial-range-first / partial-range-last`;
    /// `partial-range-first = nz-number ":" nz-number`;
    /// `partial-range-last = MINUS nz-number ":" MINUS nz-number` (RFC 9394 §4)
    fn partial_range(&mut self) -> R<PartialRange> {
        let neg = self.eat(b'-');
        let a = i64::from(self.nz_number("in partial range")?);
        self.expect(b':', "expected : in partial range")?;
        if self.eat(b'-') != neg {
            return Err("both ends of a partial range must have the same sign".into());
        }
        let b = i64::from(self.nz_number("in partial range")?);
        Ok(if neg { PartialRange { first: -a, last: -b } } else { PartialRange { first: a, last: b } })
    }

    /// `sort = ["UID" SP] "SORT" [search-return-opts] SP sort-criteria SP search-criteria`
    /// (RFC 5256 §5, RFC 5267 §6);
    /// `sort-criteria = "(" sort-criterion *(SP sort-criterion) ")"`;
    /// `sort-criterion = ["REVERSE" SP] sort-key`;
    /// `sort-key = "ARRIVAL" / "CC" / "DATE" / "FROM" / "SIZE" / "SUBJECT" / "TO"`
    /// `/ "DISPLAYFROM" / "DISPLAYTO"` (RFC 5957)
    fn sort(&mut self, uid: bool) -> R<CommandBody> {
        self.sp("after SORT")?;
        let ret = self.search_return_opts()?;
        if ret.is_some() {
            self.sp("after search return options")?;
        }
        self.open("sort criteria")?;
        let mut criteria = Vec::new();
        loop {
            let mut reverse = false;
            let mut w = upper(&self.word());
            if w == "REVERSE" {
                reverse = true;
                self.sp("after REVERSE")?;
                w = upper(&self.word());
            }
            let key = match w.as_str() {
                "ARRIVAL" => SortKey::Arrival,
                "CC" => SortKey::Cc,
                "DATE" => SortKey::Date,
                "FROM" => SortKey::From,
                "SIZE" => SortKey::Size,
                "SUBJECT" => SortKey::Subject,
                "TO" => SortKey::To,
                "DISPLAYFROM" => SortKey::DisplayFrom,
                "DISPLAYTO" => SortKey::DisplayTo,
                "" => return Err("expected sort key".into()),
                _ => return Err(format!("unknown sort key {}", show(w.as_bytes()))),
            };
            criteria.push(SortCriterion { reverse, key });
            if !self.eat(b' ') {
                break;
            }
        }
        self.close("sort criteria")?;
        self.sp("after sort criteria")?;
        let (charset, search) = self.search_criteria()?;
        Ok(CommandBody::Sort { uid, ret, criteria, charset, search })
    }

    /// `thread = ["UID" SP] "THREAD" SP thread-alg SP search-criteria`;
    /// `thread-alg = "ORDEREDSUBJECT" / "REFERENCES" / thread-alg-ext` (RFC 5256 §5)
    fn thread(&mut self, uid: bool) -> R<CommandBody> {
        self.sp("after THREAD")?;
        let alg = self.atom("threading algorithm")?;
        let algorithm = match upper(alg.as_bytes()).as_str() {
            "ORDEREDSUBJECT" => ThreadAlgorithm::OrderedSubject,
            "REFERENCES" => ThreadAlgorithm::References,
            "REFS" => ThreadAlgorithm::Refs,
            _ => return Err(format!("unsupported threading algorithm {}", show(alg.as_bytes()))),
        };
        self.sp("after threading algorithm")?;
        let (charset, search) = self.search_criteria()?;
        Ok(CommandBody::Thread { uid, algorithm, charset, search })
    }

    /// `search-criteria = charset 1*(SP search-key)`; `charset = atom / quoted` (RFC 5256 §5)
    fn search_criteria(&mut self) -> R<(String, SearchKey)> {
        let charset = utf8(self.astring("charset")?, "charset")?;
        let strict = charset.eq_ignore_ascii_case("UTF-8") || charset.eq_ignore_ascii_case("US-ASCII");
        let mut keys = Vec::new();
        while self.eat(b' ') {
            keys.push(self.search_key(strict)?);
        }
        if keys.is_empty() {
            return Err("expected SP and search key after charset".into());
        }
        let criteria = if keys.len() == 1 { keys.pop().unwrap_or(SearchKey::All) } else { SearchKey::And(keys) };
        Ok((charset, criteria))
    }

    /// A search string: astring, decoded as UTF-8 (lossily when the charset is
    /// neither UTF-8 nor US-ASCII, so the session can answer BADCHARSET).
    fn search_string(&mut self, strict: bool, what: &str) -> R<String> {
        let b = self.astring(what)?;
        if strict {
            utf8(b, what)
        } else {
            Ok(String::from_utf8_lossy(&b).into_owned())
        }
    }

    fn search_key(&mut self, strict: bool) -> R<SearchKey> {
        self.rec += 1;
        if self.rec > MAX_RECURSION {
            return Err("search keys nested too deeply".into());
        }
        let k = self.search_key_inner(strict);
        self.rec -= 1;
        k
    }

    /// `search-key = "ALL" / "ANSWERED" / "BCC" SP astring / "BEFORE" SP date / "BODY" SP astring /
    /// "CC" SP astring / "DELETED" / "FLAGGED" / "FROM" SP astring / "KEYWORD" SP flag-keyword /
    /// "NOT" SP search-key / "ON" SP date / "OR" SP search-key SP search-key / "SEEN" /
    /// "SINCE" SP date / "SUBJECT" SP astring / "TEXT" SP astring / "TO" SP astring /
    /// "UNANSWERED" / "UNDELETED" / "UNFLAGGED" / "UNKEYWORD" SP flag-keyword / "UNSEEN" /
    /// "DRAFT" / "HEADER" SP header-fld-name SP astring / "LARGER" SP number64 /
    /// "SENTBEFORE" SP date / "SENTON" SP date / "SENTSINCE" SP date / "SMALLER" SP number64 /
    /// "UID" SP sequence-set / "UNDRAFT" / sequence-set / "(" search-key *(SP search-key) ")"`;
    /// RFC 3501 `"NEW" / "OLD" / "RECENT"`; RFC 7162 `search-modsequence`;
    /// RFC 5032 `"OLDER" SP nz-number / "YOUNGER" SP nz-number`
    fn search_key_inner(&mut self, strict: bool) -> R<SearchKey> {
        use SearchKey as K;
        match self.peek() {
            Some(b'(') => {
                self.open("search key list")?;
                let mut v = vec![self.search_key(strict)?];
                while self.eat(b' ') {
                    v.push(self.search_key(strict)?);
                }
                self.close("search key list")?;
                return Ok(K::And(v));
            }
            Some(b) if b.is_ascii_digit() || b == b'*' || b == b'$' => {
                return Ok(K::SequenceSet(self.sequence_set()?));
            }
            _ => {}
        }
        let w = upper(&self.take_while(|b| b.is_ascii_alphanumeric()));
        if w.is_empty() {
            return Err("expected search key".into());
        }
        macro_rules! arg {
            ($what:expr) => {{
                self.sp(concat!("after ", $what))?;
            }};
        }
        Ok(match w.as_str() {
            "ALL" => K::All,
            "ANSWERED" => K::Answered,
            "DELETED" => K::Deleted,
            "DRAFT" => K::Draft,
            "FLAGGED" => K::Flagged,
            "NEW" => K::New,
            "OLD" => K::Old,
            "RECENT" => K::Recent,
            "SEEN" => K::Seen,
            "UNANSWERED" => K::Unanswered,
            "UNDELETED" => K::Undeleted,
            "UNDRAFT" => K::Undraft,
            "UNFLAGGED" => K::Unflagged,
            "UNSEEN" => K::Unseen,
            "BCC" | "BODY" | "CC" | "FROM" | "SUBJECT" | "TEXT" | "TO" => {
                self.sp(&format!("after {w}"))?;
                let s = self.search_string(strict, "search string")?;
                match w.as_str() {
                    "BCC" => K::Bcc(s),
                    "BODY" => K::Body(s),
                    "CC" => K::Cc(s),
                    "FROM" => K::From(s),
                    "SUBJECT" => K::Subject(s),
                    "TEXT" => K::Text(s),
                    _ => K::To(s),
                }
            }
            "BEFORE" | "ON" | "SINCE" | "SENTBEFORE" | "SENTON" | "SENTSINCE" => {
                self.sp(&format!("after {w}"))?;
                let d = self.date()?;
                match w.as_str() {
                    "BEFORE" => K::Before(d),
                    "ON" => K::On(d),
                    "SINCE" => K::Since(d),
                    "SENTBEFORE" => K::SentBefore(d),
                    "SENTON" => K::SentOn(d),
                    _ => K::SentSince(d),
                }
            }
            "HEADER" => {
                arg!("HEADER");
                let name = self.search_string(strict, "header name")?;
                self.sp("after header name")?;
                K::Header(name, self.search_string(strict, "search string")?)
            }
            "KEYWORD" => {
                arg!("KEYWORD");
                K::Keyword(self.atom("keyword")?)
            }
            "UNKEYWORD" => {
                arg!("UNKEYWORD");
                K::Unkeyword(self.atom("keyword")?)
            }
            "LARGER" => {
                arg!("LARGER");
                K::Larger(self.number64("after LARGER")?)
            }
            "SMALLER" => {
                arg!("SMALLER");
                K::Smaller(self.number64("after SMALLER")?)
            }
            "NOT" => {
                arg!("NOT");
                K::Not(Box::new(self.search_key(strict)?))
            }
            "OR" => {
                arg!("OR");
                let a = self.search_key(strict)?;
                self.sp("between OR search keys")?;
                let b = self.search_key(strict)?;
                K::Or(Box::new(a), Box::new(b))
            }
            "UID" => {
                arg!("UID");
                K::Uid(self.sequence_set()?)
            }
            "MODSEQ" => {
                arg!("MODSEQ");
                // `search-modseq-ext = SP entry-name SP entry-type-req`;
                // `entry-name = DQUOTE "/flags/" attr-flag DQUOTE`;
                // `entry-type-req = "priv" / "shared" / "all"`
                if self.peek() == Some(b'"') {
                    let name = self.quoted()?;
                    if !name.get(..7).is_some_and(|p| p.eq_ignore_ascii_case(b"/flags/")) || name.len() == 7 {
                        return Err("invalid MODSEQ entry name".into());
                    }
                    self.sp("after MODSEQ entry name")?;
                    let t = upper(&self.word());
                    if !matches!(t.as_str(), "PRIV" | "SHARED" | "ALL") {
                        return Err("expected priv, shared or all after MODSEQ entry name".into());
                    }
                    self.sp("after MODSEQ entry type")?;
                }
                K::ModSeq(self.number64("after MODSEQ")?)
            }
            "OLDER" => {
                arg!("OLDER");
                K::Older(u64::from(self.nz_number("after OLDER")?))
            }
            "YOUNGER" => {
                arg!("YOUNGER");
                K::Younger(u64::from(self.nz_number("after YOUNGER")?))
            }
            _ => match self.objectid_search_key(&w)? {
                Some(k) => k,
                None => return Err(format!("unknown search key {}", show(w.as_bytes()))),
            },
        })
    }

    /// `fetch = "FETCH" SP sequence-set SP ("ALL" / "FULL" / "FAST" / fetch-att /
    /// "(" fetch-att *(SP fetch-att) ")") [fetch-modifiers]`;
    /// `fetch-modifiers = SP "(" fetch-modifier *(SP fetch-modifier) ")"`;
    /// `fetch-modifier =/ "CHANGEDSINCE" SP mod-sequence-value` (RFC 7162)
    fn fetch(&mut self, uid: bool) -> R<CommandBody> {
        self.sp("after FETCH")?;
        let set = self.sequence_set()?;
        self.sp("after sequence set")?;
        use FetchAttr as F;
        let items = if self.keyword("ALL") {
            vec![F::Flags, F::InternalDate, F::Rfc822Size, F::Envelope]
        } else if self.keyword("FAST") {
            vec![F::Flags, F::InternalDate, F::Rfc822Size]
        } else if self.keyword("FULL") {
            vec![F::Flags, F::InternalDate, F::Rfc822Size, F::Envelope, F::Body]
        } else if self.peek() == Some(b'(') {
            self.open("fetch attributes")?;
            let mut v = vec![self.fetch_att()?];
            while self.eat(b' ') {
                v.push(self.fetch_att()?);
            }
            self.close("fetch attributes")?;
            v
        } else {
            vec![self.fetch_att()?]
        };
        let mut changed_since = None;
        let mut vanished = false;
        let mut partial = None;
        if self.eat(b' ') {
            self.open("fetch modifiers")?;
            loop {
                let w = upper(&self.word());
                match w.as_str() {
                    "CHANGEDSINCE" => {
                        self.sp("after CHANGEDSINCE")?;
                        changed_since = Some(self.number64("after CHANGEDSINCE")?);
                    }
                    // RFC 7162 §3.2.6: only with UID FETCH and CHANGEDSINCE.
                    "VANISHED" if uid => vanished = true,
                    "VANISHED" => return Err("VANISHED is only allowed in UID FETCH".into()),
                    // RFC 9394 §3.3 `fetch-modifier =/ modifier-partial`, UID FETCH only.
                    "PARTIAL" if uid && partial.is_none() => {
                        self.sp("after PARTIAL")?;
                        partial = Some(self.partial_range()?);
                    }
                    "PARTIAL" => return Err("PARTIAL is only allowed once, in UID FETCH".into()),
                    "" => return Err("expected fetch modifier".into()),
                    _ => return Err(format!("unknown fetch modifier {}", show(w.as_bytes()))),
                }
                if !self.eat(b' ') {
                    break;
                }
            }
            self.close("fetch modifiers")?;
            if vanished && changed_since.is_none() {
                return Err("VANISHED requires CHANGEDSINCE".into());
            }
        }
        Ok(CommandBody::Fetch { uid, set, items, changed_since, vanished, partial })
    }

    /// `fetch-att = "ENVELOPE" / "FLAGS" / "INTERNALDATE" / "RFC822.SIZE" / "BODY" ["STRUCTURE"] /
    /// "UID" / "BODY" section [partial] / "BODY.PEEK" section [partial] /
    /// "BINARY" [".PEEK"] section-binary [partial] / "BINARY.SIZE" section-binary`;
    /// RFC 3501 `"RFC822" [".HEADER" / ".TEXT"]`; RFC 7162 `"MODSEQ"`
    fn fetch_att(&mut self) -> R<FetchAttr> {
        use FetchAttr as F;
        let w = upper(&self.word());
        Ok(match w.as_str() {
            "ENVELOPE" => F::Envelope,
            "FLAGS" => F::Flags,
            "INTERNALDATE" => F::InternalDate,
            "RFC822.SIZE" => F::Rfc822Size,
            "RFC822" => F::Rfc822,
            "RFC822.HEADER" => F::Rfc822Header,
            "RFC822.TEXT" => F::Rfc822Text,
            "BODYSTRUCTURE" => F::BodyStructure,
            "UID" => F::Uid,
            "MODSEQ" => F::ModSeq,
            "BODY" if self.peek() != Some(b'[') => F::Body,
            "BODY" | "BODY.PEEK" => {
                let section = self.section()?;
                let partial = self.partial()?;
                F::BodySection { peek: w == "BODY.PEEK", section, partial }
            }
            "BINARY" | "BINARY.PEEK" => {
                let part = self.section_binary()?;
                let partial = self.partial()?;
                F::Binary { peek: w == "BINARY.PEEK", part, partial }
            }
            "BINARY.SIZE" => F::BinarySize { part: self.section_binary()? },
            "PREVIEW" => F::Preview { lazy: self.preview_mods()? },
            "" => return Err("expected fetch attribute".into()),
            _ => match Self::objectid_fetch_att(&w) {
                Some(a) => a,
                None => return Err(format!("unknown fetch attribute {}", show(w.as_bytes()))),
            },
        })
    }

    /// RFC 8970 §7 `fetch-att =/ "PREVIEW" [SP "(" preview-mod *(SP preview-mod) ")"]`;
    /// `preview-mod = "LAZY"`. A `(` that does not start with LAZY is left
    /// alone (it is `FETCH 1 PREVIEW (CHANGEDSINCE …)`). Returns LAZY.
    fn preview_mods(&mut self) -> R<bool> {
        let rest = self.rest();
        if !(rest.len() >= 6 && rest[..6].eq_ignore_ascii_case(b" (LAZY")) {
            return Ok(false);
        }
        self.pos += 1;
        self.open("preview modifiers")?;
        loop {
            if !self.keyword("LAZY") {
                return Err("unknown PREVIEW modifier".into());
            }
            if !self.eat(b' ') {
                break;
            }
        }
        self.close("preview modifiers")?;
        Ok(true)
    }

    /// `section-part = nz-number *("." nz-number)`
    fn section_part(&mut self) -> R<Vec<u32>> {
        let mut part = vec![self.nz_number("in section part")?];
        while self.peek() == Some(b'.') && self.peek_at(1).is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
            part.push(self.nz_number("in section part")?);
        }
        Ok(part)
    }

    /// `section = "[" [section-spec] "]"`;
    /// `section-spec = section-msgtext / (section-part ["." section-text])`;
    /// `section-msgtext = "HEADER" / "HEADER.FIELDS" [".NOT"] SP header-list / "TEXT"`;
    /// `section-text = section-msgtext / "MIME"`
    fn section(&mut self) -> R<Section> {
        self.expect(b'[', "expected [ to start section")?;
        let mut section = Section::default();
        if self.eat(b']') {
            return Ok(section);
        }
        let mut need_text = true;
        if self.peek().is_some_and(|b| b.is_ascii_digit()) {
            section.part = self.section_part()?;
            need_text = self.eat(b'.');
        }
        if need_text {
            let w = upper(&self.word());
            section.text = Some(match w.as_str() {
                "HEADER" => SectionText::Header,
                "TEXT" => SectionText::Text,
                "MIME" if !section.part.is_empty() => SectionText::Mime,
                "HEADER.FIELDS" | "HEADER.FIELDS.NOT" => {
                    self.sp("after HEADER.FIELDS")?;
                    SectionText::HeaderFields { not: w.ends_with(".NOT"), fields: self.header_list()? }
                }
                "" => return Err("expected section text".into()),
                _ => return Err(format!("invalid section {}", show(w.as_bytes()))),
            });
        }
        self.expect(b']', "expected ] to end section")?;
        Ok(section)
    }

    /// `header-list = "(" header-fld-name *(SP header-fld-name) ")"`; `header-fld-name = astring`
    fn header_list(&mut self) -> R<Vec<String>> {
        self.open("header list")?;
        let mut v = Vec::new();
        loop {
            v.push(utf8(self.astring("header field name")?, "header field name")?);
            if !self.eat(b' ') {
                break;
            }
        }
        self.close("header list")?;
        Ok(v)
    }

    /// `section-binary = "[" [section-part] "]"`
    fn section_binary(&mut self) -> R<Vec<u32>> {
        self.expect(b'[', "expected [ after BINARY")?;
        let part = if self.peek() == Some(b']') { Vec::new() } else { self.section_part()? };
        self.expect(b']', "expected ] to end binary section")?;
        Ok(part)
    }

    /// `partial = "<" number64 "." nz-number64 ">"`
    fn partial(&mut self) -> R<Option<(u32, u32)>> {
        if !self.eat(b'<') {
            return Ok(None);
        }
        let off = self.number("in partial")?;
        self.expect(b'.', "expected . in partial")?;
        let n = self.nz_number("in partial")?;
        self.expect(b'>', "expected > to end partial")?;
        Ok(Some((off, n)))
    }

    /// `store = "STORE" SP sequence-set [store-modifiers] SP store-att-flags`;
    /// `store-modifiers = SP "(" store-modifier *(SP store-modifier) ")"`;
    /// `store-modifier =/ "UNCHANGEDSINCE" SP mod-sequence-valzer` (RFC 7162);
    /// `store-att-flags = (["+" / "-"] "FLAGS" [".SILENT"]) SP (flag-list / (flag *(SP flag)))`
    fn store(&mut self, uid: bool) -> R<CommandBody> {
        self.sp("after STORE")?;
        let set = self.sequence_set()?;
        self.sp("after sequence set")?;
        let mut unchanged_since = None;
        if self.peek() == Some(b'(') {
            self.open("store modifiers")?;
            loop {
                let w = upper(&self.word());
                match w.as_str() {
                    "UNCHANGEDSINCE" => {
                        self.sp("after UNCHANGEDSINCE")?;
                        unchanged_since = Some(self.number64("after UNCHANGEDSINCE")?);
                    }
                    "" => return Err("expected store modifier".into()),
                    _ => return Err(format!("unknown store modifier {}", show(w.as_bytes()))),
                }
                if !self.eat(b' ') {
                    break;
                }
            }
            self.close("store modifiers")?;
            self.sp("after store modifiers")?;
        }
        let mode = if self.eat(b'+') {
            StoreMode::Add
        } else if self.eat(b'-') {
            StoreMode::Remove
        } else {
            StoreMode::Replace
        };
        let silent = match upper(&self.word()).as_str() {
            "FLAGS" => false,
            "FLAGS.SILENT" => true,
            _ => return Err("expected FLAGS, +FLAGS or -FLAGS".into()),
        };
        self.sp("after FLAGS")?;
        let flags = if self.peek() == Some(b'(') {
            self.flag_list()?
        } else {
            let mut v = vec![self.flag()?];
            while self.eat(b' ') {
                v.push(self.flag()?);
            }
            v
        };
        Ok(CommandBody::Store { uid, set, action: StoreAction { mode, silent, flags }, unchanged_since })
    }

    /// `copy = "COPY" SP sequence-set SP mailbox`; `move = "MOVE" SP sequence-set SP mailbox`
    fn copy_move(&mut self, uid: bool, is_move: bool) -> R<CommandBody> {
        self.sp(if is_move { "after MOVE" } else { "after COPY" })?;
        let set = self.sequence_set()?;
        self.sp("after sequence set")?;
        let mailbox = self.mailbox()?;
        Ok(if is_move { CommandBody::Move { uid, set, mailbox } } else { CommandBody::Copy { uid, set, mailbox } })
    }

    /// `id = "ID" SP id-params-list`;
    /// `id-params-list = "(" *(string SP nstring) ")" / nil` (RFC 2971)
    fn id(&mut self) -> R<CommandBody> {
        self.sp("after ID")?;
        if self.keyword("NIL") {
            return Ok(CommandBody::Id { params: None });
        }
        self.open("ID parameters")?;
        let mut params = Vec::new();
        if self.peek() != Some(b')') {
            loop {
                let k = utf8(self.string("ID field name")?, "ID field name")?;
                self.sp("after ID field name")?;
                let v = match self.nstring("ID field value")? {
                    Some(v) => Some(utf8(v, "ID field value")?),
                    None => None,
                };
                params.push((k, v));
                if !self.eat(b' ') {
                    break;
                }
            }
        }
        self.close("ID parameters")?;
        Ok(CommandBody::Id { params: Some(params) })
    }
}

impl Parser {
    /// RFC 9208 §7: `getquota = "GETQUOTA" SP quota-root-name`;
    /// `getquotaroot = "GETQUOTAROOT" SP mailbox`;
    /// `setquota = "SETQUOTA" SP quota-root-name SP setquota-list`;
    /// `setquota-list = "(" [setquota-resource *(SP setquota-resource)] ")"`;
    /// `setquota-resource = resource-name SP resource-limit`;
    /// `quota-root-name = astring`; `resource-name = … / atom`; `resource-limit = number64`.
    fn quota_command(&mut self, name: &str) -> R<CommandBody> {
        self.sp(&format!("after {name}"))?;
        if name == "GETQUOTAROOT" {
            return Ok(CommandBody::GetQuotaRoot { mailbox: self.mailbox()? });
        }
        let root = utf8(self.astring("quota root")?, "quota root")?;
        if name == "GETQUOTA" {
            return Ok(CommandBody::GetQuota { root });
        }
        self.sp("after quota root")?;
        self.open("quota limits")?;
        let mut limits = Vec::new();
        if self.peek() != Some(b')') {
            loop {
                let resource = self.atom("resource name")?.to_ascii_uppercase();
                self.sp("after resource name")?;
                limits.push((resource, self.number64("resource limit")?));
                if !self.eat(b' ') {
                    break;
                }
            }
        }
        self.close("quota limits")?;
        Ok(CommandBody::SetQuota { root, limits })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ListReturn, ListSelect};
    use std::path::PathBuf;

    fn frags(parts: &[&[u8]]) -> Vec<Fragment> {
        parts
            .iter()
            .enumerate()
            .map(
                |(i, p)| {
                    if i % 2 == 0 {
                        Fragment::Line(p.to_vec())
                    } else {
                        Fragment::Literal(Literal::Memory(p.to_vec()))
                    }
                },
            )
            .collect()
    }

    fn parse_parts(parts: &[&[u8]]) -> Result<Command, ParseError> {
        parse_command(frags(parts), &ParseLimits::default())
    }

    fn ok(line: &str) -> CommandBody {
        match parse_parts(&[line.as_bytes()]) {
            Ok(c) => c.body,
            Err(e) => panic!("{line:?}: {e}"),
        }
    }

    fn err(line: &str) -> ParseError {
        match parse_parts(&[line.as_bytes()]) {
            Ok(c) => panic!("{line:?} parsed as {c:?}"),
            Err(e) => e,
        }
    }

    fn mb(s: &str) -> MailboxName {
        MailboxName(s.to_string())
    }

    fn set(r: &[(u32, u32)]) -> SequenceSet {
        SequenceSet::Ranges(r.iter().map(|&(a, b)| (SeqNum::Value(a), SeqNum::Value(b))).collect())
    }

    fn date(y: u16, m: u8, d: u8) -> Date {
        Date { year: y, month: m, day: d }
    }

    #[test]
    fn char_classes() {
        for b in b"()[{ %*\"\\]\x7f\x00\x1f\x80\xff" {
            assert!(!is_atom_char(*b) || *b == b'[', "{b}");
        }
        assert!(is_atom_char(b'['));
        assert!(is_atom_char(b'a') && is_atom_char(b'+') && is_atom_char(b'$'));
        assert!(is_astring_char(b']') && !is_astring_char(b')'));
    }

    #[test]
    fn literal_headers() {
        assert_eq!(literal_header(b"A1 LOGIN {5}"), Some(LiteralHeader { len: 5, sync: true, binary: false }));
        assert_eq!(literal_header(b"A1 LOGIN {5+}"), Some(LiteralHeader { len: 5, sync: false, binary: false }));
        assert_eq!(literal_header(b"A1 APPEND x ~{12}"), Some(LiteralHeader { len: 12, sync: true, binary: true }));
        assert_eq!(literal_header(b"{0}"), Some(LiteralHeader { len: 0, sync: true, binary: false }));
        assert_eq!(literal_header(b"A1 NOOP"), None);
        assert_eq!(literal_header(b"A1 X {}"), None);
        assert_eq!(literal_header(b"A1 X {a}"), None);
        assert_eq!(literal_header(b"A1 X {99999999999999999999}"), None);
        assert_eq!(literal_header(b"}"), None);
    }

    #[test]
    fn tags() {
        assert_eq!(peek_tag(b"a001 NOOP").unwrap().as_str(), "a001");
        assert_eq!(peek_tag(b"a001"), None);
        assert_eq!(peek_tag(b"a+1 NOOP"), None);
        assert_eq!(peek_tag(b"* NOOP"), None);
        assert_eq!(peek_tag(b" NOOP"), None);
        let e = err("a+1 NOOP");
        assert_eq!(e.tag, None);
        let e = err("A1 FOO");
        assert_eq!(e.tag.unwrap().as_str(), "A1");
        assert_eq!(e.message, "unknown command FOO");
        let e = err("A1");
        assert_eq!(e.tag.unwrap().as_str(), "A1");
        assert_eq!(err("").tag, None);
        let e = err("A1 NOOP\0");
        assert_eq!(e.message, "NUL byte in command");
        assert_eq!(e.tag.unwrap().as_str(), "A1");
    }

    #[test]
    fn simple_commands() {
        assert_eq!(ok("a CAPABILITY"), CommandBody::Capability);
        assert_eq!(ok("a noop"), CommandBody::Noop);
        assert_eq!(ok("a Logout"), CommandBody::Logout);
        assert_eq!(ok("a STARTTLS"), CommandBody::StartTls);
        assert_eq!(ok("a IDLE"), CommandBody::Idle);
        assert_eq!(ok("a CHECK"), CommandBody::Check);
        assert_eq!(ok("a CLOSE"), CommandBody::Close);
        assert_eq!(ok("a UNSELECT"), CommandBody::Unselect);
        assert_eq!(ok("a EXPUNGE"), CommandBody::Expunge);
        assert_eq!(ok("a NAMESPACE"), CommandBody::Namespace);
        assert_eq!(err("a NOOP x").message, "unexpected characters after NOOP command");
        assert_eq!(err("a NOOP ").message, "unexpected characters after NOOP command");
    }

    #[test]
    fn authenticate() {
        match ok("a004 AUTHENTICATE PLAIN dGVzdAB0ZXN0AHRlc3Q=") {
            CommandBody::Authenticate { mechanism, initial_response } => {
                assert_eq!(mechanism, "PLAIN");
                assert_eq!(initial_response.unwrap().expose(), b"test\0test\0test");
            }
            o => panic!("{o:?}"),
        }
        match ok("A01 AUTHENTICATE external =") {
            CommandBody::Authenticate { mechanism, initial_response } => {
                assert_eq!(mechanism, "EXTERNAL");
                assert_eq!(initial_response.unwrap().expose(), b"");
            }
            o => panic!("{o:?}"),
        }
        assert!(matches!(
            ok("A01 AUTHENTICATE SCRAM-SHA-256"),
            CommandBody::Authenticate { initial_response: None, .. }
        ));
        assert!(err("a AUTHENTICATE PLAIN dGVzd").message.contains("base64"));
        assert!(err("a AUTHENTICATE PLAIN ====").message.contains("base64"));
        assert!(err("a AUTHENTICATE").message.contains("expected SP"));
    }

    #[test]
    fn sasl_responses() {
        assert_eq!(parse_sasl_response(b"*").unwrap(), None);
        assert_eq!(parse_sasl_response(b"").unwrap(), Some(vec![]));
        assert_eq!(parse_sasl_response(b"=").unwrap(), Some(vec![]));
        assert_eq!(parse_sasl_response(b"Zm9vYmFy").unwrap(), Some(b"foobar".to_vec()));
        assert_eq!(parse_sasl_response(b"Zm9vYg==").unwrap(), Some(b"foob".to_vec()));
        assert_eq!(parse_sasl_response(b"Zm9vYmE=").unwrap(), Some(b"fooba".to_vec()));
        assert_eq!(parse_sasl_response(b"Zm9vYmE").unwrap(), Some(b"fooba".to_vec()));
        assert!(parse_sasl_response(b"Zm9v YmE=").is_err());
        assert!(parse_sasl_response(b"Zm9=YmE=").is_err());
        assert!(parse_sasl_response(b"Z").is_err());
        assert!(parse_sasl_response(b"Zm9vY===").is_err());
    }

    #[test]
    fn login() {
        match ok(r#"b LOGIN "fred" "f\"o\\o""#) {
            CommandBody::Login { username, password } => {
                assert_eq!(username, "fred");
                assert_eq!(password.expose(), "f\"o\\o");
            }
            o => panic!("{o:?}"),
        }
        let c = parse_parts(&[b"A001 LOGIN {11}", b"FRED FOOBAR", b" {7}", b"fat man", b""]).unwrap();
        assert_eq!(c.body, CommandBody::Login { username: "FRED FOOBAR".into(), password: Secret("fat man".into()) });
        // Literal at the very end, no trailing empty line.
        let c = parse_parts(&[b"A001 LOGIN fred {3+}", b"abc"]).unwrap();
        assert!(matches!(c.body, CommandBody::Login { .. }));
        assert_eq!(err("a LOGIN fred").message, "expected SP after user name");
        assert_eq!(err("a LOGIN fred \"x\ny\"").message, "CR, LF or NUL in quoted string");
        assert_eq!(err("a LOGIN fred (x)").message, "expected password");
        assert_eq!(err(r#"a LOGIN fred "x\a""#).message, "invalid escape in quoted string");
        assert_eq!(err(r#"a LOGIN fred "xy"#).message, "unterminated quoted string");
        assert_eq!(parse_parts(&[b"a LOGIN fred {3}", b"a\0c", b""]).unwrap_err().message, "NUL byte in literal");
        assert_eq!(parse_parts(&[b"a LOGIN fred {4}", b"abc", b""]).unwrap_err().message, "literal length mismatch");
        assert_eq!(parse_parts(&[b"a LOGIN fred {3}"]).unwrap_err().message, "missing literal data");
        assert_eq!(err("a LOGIN {3} x").message, "literal marker must end the line");
        let big = vec![
            Fragment::Line(b"a LOGIN fred {3}".to_vec()),
            Fragment::Literal(Literal::File { path: PathBuf::from("/x"), len: 3 }),
            Fragment::Line(vec![]),
        ];
        assert_eq!(parse_command(big, &ParseLimits::default()).unwrap_err().message, "literal too large");
        let bad = vec![Fragment::Line(b"a NOOP".to_vec()), Fragment::Line(b"a NOOP".to_vec())];
        assert_eq!(parse_command(bad, &ParseLimits::default()).unwrap_err().message, "malformed command framing");
    }

    #[test]
    fn enable_select_create() {
        assert_eq!(
            ok("t2 ENABLE CONDSTORE x-good-idea"),
            CommandBody::Enable { capabilities: vec!["CONDSTORE".into(), "X-GOOD-IDEA".into()] }
        );
        assert!(err("t ENABLE").message.contains("capability"));
        assert_eq!(
            ok("A142 SELECT INBOX"),
            CommandBody::Select { mailbox: mb("INBOX"), read_only: false, params: SelectParams::default() }
        );
        assert_eq!(
            ok("A932 EXAMINE \"blurdy bloop\" (condstore)"),
            CommandBody::Select {
                mailbox: mb("blurdy bloop"),
                read_only: true,
                params: SelectParams { condstore: true, qresync: None }
            }
        );
        match ok("a SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541 (1:7 41:51)))") {
            CommandBody::Select { params, .. } => {
                let q = params.qresync.unwrap();
                assert_eq!((q.uid_validity, q.modseq), (67890007, 20050715194045000));
                assert!(q.known_uids.is_some() && q.seq_match.is_some());
            }
            other => panic!("{other:?}"),
        }
        match ok("a SELECT INBOX (QRESYNC (1 2 (1:3 4:6)))") {
            CommandBody::Select { params, .. } => {
                let q = params.qresync.unwrap();
                assert!(q.known_uids.is_none() && q.seq_match.is_some());
            }
            other => panic!("{other:?}"),
        }
        assert!(err("a SELECT INBOX (QRESYNC (0 2))").tag.is_some());
        assert!(err("a SELECT INBOX (BOGUS)").message.contains("unsupported select parameter"));
        assert_eq!(ok("l create \"///////\""), CommandBody::Create { mailbox: mb("///////"), special_use: vec![] });
        assert_eq!(
            ok(r"a CREATE MySpecial (USE (\Drafts \Sent))"),
            CommandBody::Create { mailbox: mb("MySpecial"), special_use: vec!["\\Drafts".into(), "\\Sent".into()] }
        );
        assert_eq!(ok("a DELETE foo/bar"), CommandBody::Delete { mailbox: mb("foo/bar") });
        assert_eq!(ok("Z433 RENAME INBOX old-mail"), CommandBody::Rename { from: mb("INBOX"), to: mb("old-mail") });
        assert_eq!(
            ok("A002 SUBSCRIBE #news.comp.mail.mime"),
            CommandBody::Subscribe { mailbox: mb("#news.comp.mail.mime") }
        );
        assert_eq!(ok("A002 UNSUBSCRIBE x"), CommandBody::Unsubscribe { mailbox: mb("x") });
        assert_eq!(
            ok("a SELECT &U,BTFw-"),
            CommandBody::Select { mailbox: mb("&U,BTFw-"), read_only: false, params: SelectParams::default() }
        );
        assert_eq!(ok("a DELETE \"Entwürfe\""), CommandBody::Delete { mailbox: mb("Entwürfe") });
        let e = parse_parts(&[b"a DELETE \"\xff\""]).unwrap_err();
        assert_eq!(e.message, "invalid UTF-8 in mailbox name");
        assert_eq!(err("a RENAME x").message, "expected SP after mailbox name");
        assert_eq!(err("a SELECT").message, "expected SP after SELECT");
        assert_eq!(err("a SELECT (x)").message, "expected mailbox name");
    }

    fn list(line: &str) -> ListCommand {
        match ok(line) {
            CommandBody::List(l) => l,
            o => panic!("{o:?}"),
        }
    }

    #[test]
    fn list_commands() {
        let l = list(r#"A682 LIST "" *"#);
        assert_eq!(l, ListCommand { reference: mb(""), patterns: vec![mb("*")], ..Default::default() });
        assert!(!l.extended);
        let l = list("A202 LIST ~/Mail/ %");
        assert_eq!((l.reference, l.patterns), (mb("~/Mail/"), vec![mb("%")]));
        let l = list(r#"A02 LIST (SUBSCRIBED) "" "*""#);
        assert!(l.extended && l.select.subscribed);
        let l = list(r#"A03 LIST () "" "%" RETURN (CHILDREN)"#);
        assert!(l.extended);
        assert_eq!(l.select, ListSelect::default());
        assert_eq!(l.ret, ListReturn { children: true, ..Default::default() });
        let l = list(r#"A05 LIST (REMOTE SUBSCRIBED) "" "*""#);
        assert!(l.select.remote && l.select.subscribed);
        let l = list(r#"C04 LIST (SUBSCRIBED RECURSIVEMATCH) "" "%" RETURN ()"#);
        assert!(l.select.recursive_match && l.extended);
        let l = list(r#"a3.1 LIST "" (% music/rock)"#);
        assert_eq!(l.patterns, vec![mb("%"), mb("music/rock")]);
        assert!(l.extended);
        let l = list(r#"A01 LIST "" % RETURN (STATUS (MESSAGES UNSEEN))"#);
        assert_eq!(l.ret.status, Some(vec![StatusItem::Messages, StatusItem::Unseen]));
        let l = list(r#"A002 LIST (SPECIAL-USE) "" "*" RETURN (SPECIAL-USE SUBSCRIBED)"#);
        assert!(l.select.special_use && l.ret.special_use && l.ret.subscribed);
        let l = list(r#"a LIST "" foo]bar*"#);
        assert_eq!(l.patterns, vec![mb("foo]bar*")]);
        let c = parse_parts(&[b"a LIST {0}", b"", b" {3}", b"a/%", b""]).unwrap();
        assert!(matches!(c.body, CommandBody::List(ListCommand { ref patterns, .. }) if patterns == &vec![mb("a/%")]));
        assert!(err(r#"a LIST (RECURSIVEMATCH) "" %"#).message.contains("RECURSIVEMATCH"));
        assert!(err(r#"a LIST (FOO) "" %"#).message.contains("unknown LIST selection option FOO"));
        assert!(err(r#"a LIST "" % RETURN (FOO)"#).message.contains("unknown LIST return option"));
        assert_eq!(err(r#"a LIST "" % FOO"#).message, "expected RETURN after mailbox pattern");
        assert_eq!(err(r#"a LIST """#).message, "expected SP after reference name");
        assert_eq!(
            ok(r##"a LSUB "#news." "comp.mail.*""##),
            CommandBody::Lsub { reference: mb("#news."), pattern: mb("comp.mail.*") }
        );
    }

    #[test]
    fn status() {
        assert_eq!(
            ok("A042 STATUS blurdybloop (UIDNEXT MESSAGES)"),
            CommandBody::Status { mailbox: mb("blurdybloop"), items: vec![StatusItem::UidNext, StatusItem::Messages] }
        );
        assert_eq!(
            ok("a status x (messages recent uidnext uidvalidity unseen deleted size highestmodseq)").name(),
            "STATUS"
        );
        assert!(err("a STATUS x (FOO)").message.contains("unknown status attribute FOO"));
        assert!(err("a STATUS x ()").message.contains("expected status attribute"));
    }

    #[test]
    fn append() {
        let msg = b"Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)\r\n\r\nHello\r\n";
        let hdr = format!("A003 APPEND saved-messages (\\Seen) {{{}}}", msg.len());
        let c = parse_parts(&[hdr.as_bytes(), msg, b""]).unwrap();
        match c.body {
            CommandBody::Append { mailbox, messages } => {
                assert_eq!(mailbox, mb("saved-messages"));
                assert_eq!(messages.len(), 1);
                assert_eq!(messages[0].flags, vec![Flag::Seen]);
                assert_eq!(messages[0].date, None);
                assert_eq!(messages[0].data, Literal::Memory(msg.to_vec()));
                assert!(!messages[0].binary);
            }
            o => panic!("{o:?}"),
        }
        // date-time, literal8, MULTIAPPEND, File literal.
        let frags = vec![
            Fragment::Line(b"a APPEND INBOX \"01-Feb-2024 12:34:56 +0100\" ~{3}".to_vec()),
            Fragment::Literal(Literal::Memory(b"a\0b".to_vec())),
            Fragment::Line(b" (\\Seen $Junk) \" 1-Feb-2024 00:00:00 -0530\" {5+}".to_vec()),
            Fragment::Literal(Literal::File { path: PathBuf::from("/spool/1"), len: 5 }),
            Fragment::Line(b" {2}".to_vec()),
            Fragment::Literal(Literal::Memory(b"hi".to_vec())),
            Fragment::Line(vec![]),
        ];
        match parse_command(frags, &ParseLimits::default()).unwrap().body {
            CommandBody::Append { messages, .. } => {
                assert_eq!(messages.len(), 3);
                let dt = messages[0].date.unwrap();
                assert_eq!(
                    (dt.date, dt.hour, dt.minute, dt.second, dt.zone_minutes),
                    (date(2024, 2, 1), 12, 34, 56, 60)
                );
                assert!(messages[0].binary);
                assert_eq!(messages[1].flags, vec![Flag::Seen, Flag::Keyword("$Junk".into())]);
                assert_eq!(messages[1].date.unwrap().zone_minutes, -330);
                assert_eq!(messages[1].data, Literal::File { path: PathBuf::from("/spool/1"), len: 5 });
                assert_eq!(messages[2].data, Literal::Memory(b"hi".to_vec()));
            }
            o => panic!("{o:?}"),
        }
        assert!(err("a APPEND INBOX").message.contains("expected SP"));
        assert_eq!(err("a APPEND INBOX (\\Seen)").message, "expected SP after flag list");
        assert_eq!(err("a APPEND INBOX hello").message, "expected literal with message data");
        assert!(err("a APPEND INBOX \"31-Feb-2024 00:00:00 +0000\" {1}").message.contains("invalid day"));
        assert!(err("a APPEND INBOX \"01-Feb-2024 25:00:00 +0000\" {1}").message.contains("invalid time"));
        assert!(parse_parts(&[b"a APPEND INBOX {1}", b"\0", b""]).is_err());
        assert!(parse_parts(&[b"a APPEND INBOX {1}", b"x", b"junk"]).is_err());
    }

    #[test]
    fn context_return_options_and_cancelupdate() {
        // RFC 5267 §4.2, §4.3, §4.3.1, §4.3.5 examples.
        match ok("A01 SEARCH RETURN (CONTEXT COUNT) UNDELETED UNKEYWORD $Junk") {
            CommandBody::Search { ret, .. } => assert_eq!(ret, Some(vec![SearchReturn::Context, SearchReturn::Count])),
            o => panic!("{o:?}"),
        }
        match ok("B01 UID SEARCH RETURN (UPDATE COUNT) DELETED KEYWORD $Junk") {
            CommandBody::Search { uid: true, ret, .. } => {
                assert_eq!(ret, Some(vec![SearchReturn::Update, SearchReturn::Count]))
            }
            o => panic!("{o:?}"),
        }
        match ok("B02 UID SORT RETURN (UPDATE COUNT) (DATE) UTF-8 KEYWORD $Junk") {
            CommandBody::Sort { ret, .. } => assert_eq!(ret, Some(vec![SearchReturn::Update, SearchReturn::Count])),
            o => panic!("{o:?}"),
        }
        // UPDATE alone is not the empty list: it does not mean ALL.
        match ok("B03 SEARCH RETURN (update) FLAGGED") {
            CommandBody::Search { ret, .. } => assert_eq!(ret, Some(vec![SearchReturn::Update])),
            o => panic!("{o:?}"),
        }
        assert_eq!(ok("B04 CANCELUPDATE \"B01\""), CommandBody::CancelUpdate { tags: vec!["B01".into()] });
        assert_eq!(
            ok("B05 cancelupdate \"B01\" \"a b\""),
            CommandBody::CancelUpdate { tags: vec!["B01".into(), "a b".into()] }
        );
        err("B06 CANCELUPDATE");
        err("B07 CANCELUPDATE B01");
        err("B08 CANCELUPDATE \"B01\" ");
    }

    #[test]
    fn catenate() {
        // RFC 4469 Appendix A, example 1 (literals shortened).
        let c = parse_parts(&[
            b"A003 APPEND Drafts (\\Seen \\Draft $MDNSent) CATENATE (URL \"/Drafts;UIDVALIDITY=385759045/;UID=20/;section=HEADER\" TEXT {4}",
            b"--x\n",
            b" URL \"/Drafts;UIDVALIDITY=385759045/;UID=20/;section=1.MIME\" url ;UID=30 TEXT ~{2}",
            b"\0\n",
            b")",
        ])
        .unwrap();
        let CommandBody::Append { mailbox, messages } = c.body else { panic!() };
        assert_eq!(mailbox, mb("Drafts"));
        let m = &messages[0];
        assert_eq!(m.flags.len(), 3);
        assert_eq!(m.data, Literal::Memory(Vec::new()));
        assert_eq!(
            m.catenate.as_deref().unwrap(),
            &[
                CatPart::Url("/Drafts;UIDVALIDITY=385759045/;UID=20/;section=HEADER".into()),
                CatPart::Text { data: Literal::Memory(b"--x\n".to_vec()), binary: false },
                CatPart::Url("/Drafts;UIDVALIDITY=385759045/;UID=20/;section=1.MIME".into()),
                CatPart::Url(";UID=30".into()),
                CatPart::Text { data: Literal::Memory(b"\0\n".to_vec()), binary: true },
            ]
        );
        // MULTIAPPEND: a CATENATE message, then a plain one.
        let c = parse_parts(&[b"a APPEND INBOX CATENATE (URL \"/INBOX/;UID=1\") {2}", b"hi", b""]).unwrap();
        let CommandBody::Append { messages, .. } = c.body else { panic!() };
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[1].catenate, None);
        assert_eq!(err("a APPEND INBOX CATENATE ()").message, "expected TEXT or URL in CATENATE");
        assert_eq!(err("a APPEND INBOX CATENATE (TEXT \"x\")").message, "expected literal after TEXT");
        assert!(err("a APPEND INBOX CATENATE (URL \"x\"").message.contains("expected )"));
        assert!(err("a APPEND INBOX CATENATE").message.contains("expected SP"));
    }

    #[test]
    fn replace() {
        let c = parse_parts(&[b"A003 REPLACE 4 Drafts (\\Seen \\Draft) {2}", b"hi", b""]).unwrap();
        let CommandBody::Replace { uid, target, mailbox, message } = c.body else { panic!() };
        assert_eq!((uid, target, mailbox), (false, SeqNum::Value(4), mb("Drafts")));
        assert_eq!(message.flags, vec![Flag::Seen, Flag::Draft]);
        assert_eq!(message.data, Literal::Memory(b"hi".to_vec()));
        let c =
            parse_parts(&[b"A011 UID REPLACE 3002 Drafts CATENATE (TEXT {2}", b"hi", b" URL \"/Drafts/;UID=3002\")"])
                .unwrap();
        assert_eq!(c.body.name(), "UID REPLACE");
        let CommandBody::Replace { uid: true, target: SeqNum::Value(3002), message, .. } = c.body else { panic!() };
        assert_eq!(message.catenate.unwrap().len(), 2);
        assert!(err("a REPLACE 0 Drafts {1}").message.contains("must not be 0"));
        assert!(err("a REPLACE 1 Drafts").message.contains("expected SP"));
        // REPLACE takes one message (RFC 8508 §4.7: no MULTIAPPEND).
        assert!(parse_parts(&[b"a REPLACE 1 Drafts {1}", b"x", b" {1}", b"y", b""]).is_err());
    }

    #[test]
    fn appendlimit_and_preview() {
        assert_eq!(
            ok("a STATUS INBOX (APPENDLIMIT)"),
            CommandBody::Status { mailbox: mb("INBOX"), items: vec![StatusItem::AppendLimit] }
        );
        let items = |line: &str| match ok(line) {
            CommandBody::Fetch { items, changed_since, .. } => (items, changed_since),
            o => panic!("{o:?}"),
        };
        assert_eq!(items("a FETCH 1 PREVIEW"), (vec![FetchAttr::Preview { lazy: false }], None));
        assert_eq!(items("a FETCH 1 (preview (lazy) UID)").0, vec![FetchAttr::Preview { lazy: true }, FetchAttr::Uid]);
        assert_eq!(items("a FETCH 1 (ENVELOPE PREVIEW (LAZY))").0[1], FetchAttr::Preview { lazy: true });
        assert_eq!(items("a FETCH 1 PREVIEW (CHANGEDSINCE 5)"), (vec![FetchAttr::Preview { lazy: false }], Some(5)));
        assert!(err("a FETCH 1 (PREVIEW (LAZY FOO))").message.contains("unknown PREVIEW modifier"));
    }

    #[test]
    fn url_sections() {
        assert_eq!(parse_section(b"1.2.MIME").unwrap(), Section { part: vec![1, 2], text: Some(SectionText::Mime) });
        assert_eq!(parse_section(b"").unwrap(), Section::default());
        assert_eq!(
            parse_section(b"header.fields (From To)").unwrap().text,
            Some(SectionText::HeaderFields { not: false, fields: vec!["From".into(), "To".into()] })
        );
        assert!(parse_section(b"1]").is_err());
        assert!(parse_section(b"FOO").is_err());
        assert!(parse_section(b"HEADER.FIELDS {3}").is_err());
    }

    #[test]
    fn sort_and_thread_commands() {
        use SearchKey as K;
        let c = |reverse, key| SortCriterion { reverse, key };
        assert_eq!(
            ok("A283 SORT (SUBJECT REVERSE DATE) UTF-8 ALL"),
            CommandBody::Sort {
                uid: false,
                ret: None,
                criteria: vec![c(false, SortKey::Subject), c(true, SortKey::Date)],
                charset: "UTF-8".into(),
                search: K::All,
            }
        );
        assert_eq!(
            ok("E01 UID SORT RETURN () (REVERSE DATE) UTF-8 UNDELETED UNKEYWORD $Junk"),
            CommandBody::Sort {
                uid: true,
                ret: Some(vec![SearchReturn::All]),
                criteria: vec![c(true, SortKey::Date)],
                charset: "UTF-8".into(),
                search: K::And(vec![K::Undeleted, K::Unkeyword("$Junk".into())]),
            }
        );
        match ok("a sort return (min partial -1:-100) (displayfrom reverse displayto arrival cc from size to) \"us-ascii\" 1:*") {
            CommandBody::Sort { ret, criteria, charset, .. } => {
                assert_eq!(
                    ret,
                    Some(vec![SearchReturn::Min, SearchReturn::Partial(PartialRange { first: -1, last: -100 })])
                );
                assert_eq!(criteria.len(), 7);
                assert_eq!(criteria[1], c(true, SortKey::DisplayTo));
                assert_eq!(charset, "us-ascii");
            }
            o => panic!("{o:?}"),
        }
        assert_eq!(
            ok("A285 THREAD REFERENCES UTF-8 SINCE 5-MAR-2000"),
            CommandBody::Thread {
                uid: false,
                algorithm: ThreadAlgorithm::References,
                charset: "UTF-8".into(),
                search: K::Since(date(2000, 3, 5)),
            }
        );
        assert!(matches!(
            ok("a UID THREAD refs UTF-8 ALL"),
            CommandBody::Thread { uid: true, algorithm: ThreadAlgorithm::Refs, .. }
        ));
        assert!(matches!(
            ok("a THREAD ORDEREDSUBJECT KOI8-R ALL"),
            CommandBody::Thread { algorithm: ThreadAlgorithm::OrderedSubject, .. }
        ));
        assert_eq!(err("a SORT (FOO) UTF-8 ALL").message, "unknown sort key FOO");
        assert_eq!(err("a SORT () UTF-8 ALL").message, "expected sort key");
        assert_eq!(err("a SORT (DATE) UTF-8").message, "expected SP and search key after charset");
        assert_eq!(err("a SORT (REVERSE) UTF-8 ALL").message, "expected SP after REVERSE");
        assert_eq!(err("a THREAD JWZ UTF-8 ALL").message, "unsupported threading algorithm JWZ");
        assert!(err("a SORT RETURN (ALL PARTIAL 1:5) (DATE) UTF-8 ALL").message.contains("ALL and PARTIAL"));
    }

    #[test]
    fn uid_fetch_partial_modifier() {
        assert!(matches!(
            ok("10 UID FETCH 25900:26600 (UID FLAGS) (PARTIAL -1:-3)"),
            CommandBody::Fetch { partial: Some(PartialRange { first: -1, last: -3 }), .. }
        ));
        assert!(matches!(
            ok("101 UID FETCH 25900:26600 (UID FLAGS) (CHANGEDSINCE 98305 PARTIAL -1:-30)"),
            CommandBody::Fetch { partial: Some(PartialRange { first: -1, last: -30 }), changed_since: Some(98305), .. }
        ));
        assert!(matches!(ok("a UID FETCH 1:* FLAGS"), CommandBody::Fetch { partial: None, .. }));
        assert!(err("a FETCH 1:* FLAGS (PARTIAL 1:5)").message.contains("only allowed"));
        assert!(err("a UID FETCH 1:* FLAGS (PARTIAL 1:5 PARTIAL 1:2)").message.contains("only allowed"));
    }

    #[test]
    fn partial_ranges() {
        let p = |line: &str| match search(line).0.unwrap().as_slice() {
            [SearchReturn::Partial(r)] => *r,
            o => panic!("{o:?}"),
        };
        assert_eq!(p("a SEARCH RETURN (PARTIAL 1:500) ALL"), PartialRange { first: 1, last: 500 });
        assert_eq!(p("a SEARCH RETURN (partial 500:400) ALL"), PartialRange { first: 500, last: 400 });
        assert_eq!(p("a SEARCH RETURN (PARTIAL -1:-100) ALL"), PartialRange { first: -1, last: -100 });
        assert!(err("a SEARCH RETURN (PARTIAL 0:5) ALL").message.contains("non-zero"));
        assert!(err("a SEARCH RETURN (PARTIAL -1:5) ALL").message.contains("same sign"));
        assert!(err("a SEARCH RETURN (PARTIAL 1:*) ALL").message.contains("partial range"));
        assert!(err("a SEARCH RETURN (PARTIAL 1) ALL").message.contains("expected :"));
        let r = PartialRange { first: 1, last: 3 };
        assert_eq!(r.slice(10), 0..3);
        assert_eq!(r.slice(2), 0..2);
        assert_eq!(PartialRange { first: 5, last: 9 }.slice(3), 0..0);
        assert_eq!(PartialRange { first: -1, last: -3 }.slice(10), 7..10);
        assert_eq!(PartialRange { first: -3, last: -1 }.slice(2), 0..2);
        assert_eq!(PartialRange { first: -5, last: -9 }.slice(3), 0..0);
    }

    fn search(line: &str) -> (Option<Vec<SearchReturn>>, Option<String>, SearchKey) {
        match ok(line) {
            CommandBody::Search { ret, charset, criteria, .. } => (ret, charset, criteria),
            o => panic!("{o:?}"),
        }
    }

    #[test]
    fn search_commands() {
        use SearchKey as K;
        assert_eq!(
            search("A282 SEARCH RETURN (MIN COUNT) FLAGGED"),
            (Some(vec![SearchReturn::Min, SearchReturn::Count]), None, K::Flagged)
        );
        assert_eq!(search("A283 SEARCH RETURN () FLAGGED").0, Some(vec![SearchReturn::All]));
        assert_eq!(search(r#"A284 SEARCH TEXT "string not in mailbox""#).2, K::Text("string not in mailbox".into()));
        let c = parse_parts(&["A285 SEARCH CHARSET UTF-8 TEXT {12}".as_bytes(), "отпуск".as_bytes(), b""]).unwrap();
        assert!(
            matches!(c.body, CommandBody::Search { charset: Some(ref cs), criteria: K::Text(ref t), .. } if cs == "UTF-8" && t == "отпуск")
        );
        assert!(matches!(ok("A285 UID SEARCH RETURN (MIN MAX) 1:5000"), CommandBody::Search { uid: true, .. }));
        assert_eq!(
            search("A282 SEARCH RETURN (SAVE) FLAGGED SINCE 1-Feb-1994"),
            (Some(vec![SearchReturn::Save]), None, K::And(vec![K::Flagged, K::Since(date(1994, 2, 1))]))
        );
        assert_eq!(
            search("A301 UID SEARCH UID $ SMALLER 4096").2,
            K::And(vec![K::Uid(SequenceSet::Saved), K::Smaller(4096)])
        );
        let c =
            parse_parts(&["P283 SEARCH CHARSET UTF-8 (OR $ 1,3000:3021) TEXT {8+}".as_bytes(), "мать".as_bytes(), b""])
                .unwrap();
        match c.body {
            CommandBody::Search { criteria, .. } => assert_eq!(
                criteria,
                K::And(vec![
                    K::And(vec![K::Or(
                        Box::new(K::SequenceSet(SequenceSet::Saved)),
                        Box::new(K::SequenceSet(set(&[(1, 1), (3000, 3021)])))
                    )]),
                    K::Text("мать".into())
                ])
            ),
            o => panic!("{o:?}"),
        }
        assert_eq!(search("F282 SEARCH RETURN (SAVE) KEYWORD $Junk").2, K::Keyword("$Junk".into()));
        assert_eq!(search("h search from maria@example.com").2, K::From("maria@example.com".into()));
        let all = "a SEARCH ALL ANSWERED BCC b BEFORE \"1-Jan-2000\" BODY x CC c DELETED DRAFT FLAGGED FROM f \
                   HEADER X-Foo \"\" KEYWORD k LARGER 10 NEW NOT SEEN OLD ON 29-Feb-2024 OR 1 2 RECENT SEEN \
                   SENTBEFORE 1-Jan-2000 SENTON 1-Jan-2000 SENTSINCE 1-Jan-2000 SINCE 1-Jan-2000 SMALLER 5 \
                   SUBJECT s TEXT t TO to UID 1:* UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNKEYWORD k UNSEEN \
                   1,2:4 MODSEQ 5 MODSEQ \"/flags/\\\\draft\" all 620162338 OLDER 10 YOUNGER 20 (SEEN (DRAFT))";
        match search(all).2 {
            K::And(v) => {
                assert_eq!(v.len(), 41);
                assert_eq!(v[10], K::Header("X-Foo".into(), String::new()));
                assert_eq!(v[14], K::Not(Box::new(K::Seen)));
                assert_eq!(v[16], K::On(date(2024, 2, 29)));
                assert_eq!(v[36], K::ModSeq(5));
                assert_eq!(v[37], K::ModSeq(620162338));
                assert_eq!(v[33], K::Unkeyword("k".into()));
                assert_eq!(v[39], K::Younger(20));
                assert_eq!(v[40], K::And(vec![K::Seen, K::And(vec![K::Draft])]));
            }
            o => panic!("{o:?}"),
        }
        let (_, cs, k) = search("a SEARCH CHARSET KOI8-R SUBJECT \"{1}X\"");
        assert_eq!(cs.as_deref(), Some("KOI8-R"));
        assert_eq!(k, K::Subject("{1}X".into()));
        assert_eq!(err("a SEARCH SUBJECT {1}X").message, "literal marker must end the line");
        let c = parse_parts(&[b"a SEARCH CHARSET KOI8-R SUBJECT {2}", b"\xc1\xc2", b""]).unwrap();
        assert!(matches!(c.body, CommandBody::Search { criteria: K::Subject(_), .. }));
        assert!(parse_parts(&[b"a SEARCH SUBJECT {2}", b"\xc1\xc2", b""]).unwrap_err().message.contains("UTF-8"));
        assert_eq!(err("a SEARCH FOO").message, "unknown search key FOO");
        assert_eq!(err("a SEARCH").message, "expected SP after SEARCH");
        assert_eq!(err("a SEARCH ").message, "expected search key");
        assert_eq!(err("a SEARCH OR SEEN").message, "expected SP between OR search keys");
        assert_eq!(err("a SEARCH 0").message, "sequence number must not be 0");
        assert_eq!(err("a SEARCH 4294967296").message, "sequence number too large");
        assert!(err("a SEARCH RETURN (FOO) ALL").message.contains("unknown search return option"));
        assert!(err("a SEARCH SINCE 1-Foo-2000").message.contains("month"));
        assert!(err("a SEARCH MODSEQ \"/foo/x\" all 5").message.contains("entry name"));
        assert!(err("a SEARCH (SEEN").message.contains("expected )"));
        assert!(ok("a SEARCH 4294967295").name() == "SEARCH");
    }

    #[test]
    fn depth_limits() {
        let deep = format!("a SEARCH {}SEEN{}", "(".repeat(40), ")".repeat(40));
        let e = err(&deep);
        assert!(e.message.contains("nested too deeply"), "{}", e.message);
        let fine = format!("a SEARCH {}SEEN{}", "(".repeat(10), ")".repeat(10));
        ok(&fine);
        let limits = ParseLimits { max_depth: 2 };
        let r = parse_command(frags(&[b"a SEARCH ((SEEN))"]), &limits);
        assert!(r.is_ok());
        let r = parse_command(frags(&[b"a SEARCH (((SEEN)))"]), &limits);
        assert!(r.unwrap_err().message.contains("nested too deeply"));
        let nots = format!("a SEARCH {}SEEN", "NOT ".repeat(100_000));
        assert!(err(&nots).message.contains("nested too deeply"));
        let ors = format!("a SEARCH {}SEEN", "OR SEEN ".repeat(100));
        ok(&ors);
    }

    #[test]
    fn fetch_commands() {
        use FetchAttr as F;
        let f = |line: &str| match ok(line) {
            CommandBody::Fetch { uid, set, items, changed_since, .. } => (uid, set, items, changed_since),
            o => panic!("{o:?}"),
        };
        assert_eq!(f("A003 FETCH 4 ALL").2, vec![F::Flags, F::InternalDate, F::Rfc822Size, F::Envelope]);
        assert_eq!(f("a fetch 12 full").2.len(), 5);
        assert_eq!(f("a FETCH 1 fast").2.len(), 3);
        let (_, s, items, _) = f("A283 FETCH $ (UID INTERNALDATE FLAGS BODY.PEEK[HEADER])");
        assert_eq!(s, SequenceSet::Saved);
        assert_eq!(
            items[3],
            F::BodySection {
                peek: true,
                section: Section { part: vec![], text: Some(SectionText::Header) },
                partial: None
            }
        );
        let (_, _, items, _) = f("A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE \"FROM\")])");
        assert_eq!(
            items[1],
            F::BodySection {
                peek: false,
                section: Section {
                    part: vec![],
                    text: Some(SectionText::HeaderFields { not: false, fields: vec!["DATE".into(), "FROM".into()] })
                },
                partial: None
            }
        );
        let (uid, s, items, _) = f("A999 UID FETCH 4827313:4828442 FLAGS");
        assert!(uid);
        assert_eq!(s, set(&[(4827313, 4828442)]));
        assert_eq!(items, vec![F::Flags]);
        let (_, _, items, cs) =
            f("a FETCH 1:* (BODY[] BODY[1.2.MIME] BODY[3.HEADER.FIELDS.NOT (X)]<0.100> BODY[2.TEXT] BODY[4] \
             BINARY[1.2]<5.10> BINARY.PEEK[] BINARY.SIZE[3] RFC822 RFC822.HEADER RFC822.TEXT RFC822.SIZE \
             MODSEQ ENVELOPE BODYSTRUCTURE BODY UID) (CHANGEDSINCE 12345)");
        assert_eq!(cs, Some(12345));
        assert_eq!(items.len(), 17);
        assert_eq!(items[0], F::BodySection { peek: false, section: Section::default(), partial: None });
        assert_eq!(
            items[1],
            F::BodySection {
                peek: false,
                section: Section { part: vec![1, 2], text: Some(SectionText::Mime) },
                partial: None
            }
        );
        assert_eq!(
            items[2],
            F::BodySection {
                peek: false,
                section: Section {
                    part: vec![3],
                    text: Some(SectionText::HeaderFields { not: true, fields: vec!["X".into()] })
                },
                partial: Some((0, 100))
            }
        );
        assert_eq!(
            items[4],
            F::BodySection { peek: false, section: Section { part: vec![4], text: None }, partial: None }
        );
        assert_eq!(items[5], F::Binary { peek: false, part: vec![1, 2], partial: Some((5, 10)) });
        assert_eq!(items[6], F::Binary { peek: true, part: vec![], partial: None });
        assert_eq!(items[7], F::BinarySize { part: vec![3] });
        assert_eq!(
            &items[8..],
            &[
                F::Rfc822,
                F::Rfc822Header,
                F::Rfc822Text,
                F::Rfc822Size,
                F::ModSeq,
                F::Envelope,
                F::BodyStructure,
                F::Body,
                F::Uid
            ]
        );
        assert_eq!(f("a004 fetch 12 body[header]").2.len(), 1);
        assert_eq!(
            f("a FETCH 5:2,*,7 uid").1,
            SequenceSet::Ranges(vec![
                (SeqNum::Value(5), SeqNum::Value(2)),
                (SeqNum::Largest, SeqNum::Largest),
                (SeqNum::Value(7), SeqNum::Value(7))
            ])
        );
        assert!(err("a FETCH 1 BODY[MIME]").message.contains("invalid section"));
        assert!(err("a FETCH 1 BODY.PEEK").message.contains("expected ["));
        assert!(err("a FETCH 1 BODY[1]<0.0>").message.contains("non-zero"));
        assert!(err("a FETCH 1 (FLAGS) (CHANGEDSINCE 1 VANISHED)").message.contains("UID FETCH"));
        assert!(err("a UID FETCH 1 (FLAGS) (VANISHED)").message.contains("CHANGEDSINCE"));
        assert!(matches!(
            ok("a UID FETCH 300:500 (FLAGS) (CHANGEDSINCE 12345 VANISHED)"),
            CommandBody::Fetch { vanished: true, changed_since: Some(12345), .. }
        ));
        assert!(err("a FETCH 1 FOO").message.contains("unknown fetch attribute FOO"));
        assert!(err("a FETCH 0 FLAGS").message.contains("must not be 0"));
        assert!(err("a FETCH 1, FLAGS").message.contains("expected sequence set"));
        assert!(err("a FETCH 1 (FLAGS").message.contains("expected )"));
        assert!(err("a FETCH 1 ()").message.contains("expected fetch attribute"));
    }

    #[test]
    fn store_copy_move_expunge_id() {
        let s = |line: &str| match ok(line) {
            CommandBody::Store { uid, set, action, unchanged_since } => (uid, set, action, unchanged_since),
            o => panic!("{o:?}"),
        };
        let (_, st, a, u) = s(r"A003 STORE 2:4 +FLAGS (\Deleted)");
        assert_eq!(st, set(&[(2, 4)]));
        assert_eq!(a, StoreAction { mode: StoreMode::Add, silent: false, flags: vec![Flag::Deleted] });
        assert_eq!(u, None);
        let (_, st, a, _) = s(r"F284 STORE $ +FLAGS.Silent (\Deleted)");
        assert_eq!(st, SequenceSet::Saved);
        assert!(a.silent);
        let (_, _, a, _) = s(r"a005 store 12 +flags \deleted");
        assert_eq!(a.flags, vec![Flag::Deleted]);
        let (_, _, a, _) = s("m STORE 42 FLAGS f1 f2 f3");
        assert_eq!(a.mode, StoreMode::Replace);
        assert_eq!(a.flags.len(), 3);
        let (uid, _, a, u) = s(r"a UID STORE 1:* (UNCHANGEDSINCE 320162338) -FLAGS.SILENT (\Seen $Foo \X-Ext)");
        assert!(uid);
        assert_eq!(u, Some(320162338));
        assert_eq!(a.mode, StoreMode::Remove);
        assert_eq!(a.flags, vec![Flag::Seen, Flag::Keyword("$Foo".into()), Flag::Extension("X-Ext".into())]);
        let (_, _, a, _) = s("a STORE 1 FLAGS ()");
        assert!(a.flags.is_empty());
        assert!(err("a STORE 1 FLAGS (\\*)").message.contains("flag"));
        assert!(err("a STORE 1 LABELS x").message.contains("expected FLAGS"));
        assert_eq!(
            ok("E283 COPY $ \"Other Messages\""),
            CommandBody::Copy { uid: false, set: SequenceSet::Saved, mailbox: mb("Other Messages") }
        );
        assert_eq!(
            ok("n1 uid copy 1:* oldmail"),
            CommandBody::Copy {
                uid: true,
                set: SequenceSet::Ranges(vec![(SeqNum::Value(1), SeqNum::Largest)]),
                mailbox: mb("oldmail")
            }
        );
        assert_eq!(
            ok("a UID MOVE 42:69 foo"),
            CommandBody::Move { uid: true, set: set(&[(42, 69)]), mailbox: mb("foo") }
        );
        assert_eq!(ok("a MOVE 1 foo").name(), "MOVE");
        assert_eq!(ok("A003 UID EXPUNGE 3000:3002"), CommandBody::UidExpunge { set: set(&[(3000, 3002)]) });
        assert_eq!(err("a UID FOO 1").message, "unknown command UID FOO");
        assert_eq!(ok("a ID NIL"), CommandBody::Id { params: None });
        assert_eq!(
            ok(r#"a ID ("name" "sodr" "version" "19.34" "vendor" NIL)"#),
            CommandBody::Id {
                params: Some(vec![
                    ("name".into(), Some("sodr".into())),
                    ("version".into(), Some("19.34".into())),
                    ("vendor".into(), None)
                ])
            }
        );
        assert_eq!(ok("a ID ()"), CommandBody::Id { params: Some(vec![]) });
        assert!(err("a ID (name x)").message.contains("ID field name"));
    }

    #[test]
    fn rfc9051_section8_lines() {
        for line in [
            "a001 CAPABILITY",
            "a002 STARTTLS",
            "a004 AUTHENTICATE PLAIN dGVzdAB0ZXN0AHRlc3Q=",
            "A001 AUTHENTICATE GSSAPI",
            "a001 LOGIN SMITH SESAME",
            "t2 ENABLE CONDSTORE X-GOOD-IDEA",
            "A142 SELECT INBOX",
            "A932 EXAMINE blurdybloop",
            "A003 CREATE owatagusiam/",
            "A683 DELETE blurdybloop",
            "A683 RENAME blurdybloop sarasoop",
            "A101 LIST \"\" \"\"",
            "A102 LIST #news.comp.mail.misc \"\"",
            "A103 LIST /usr/staff/jones \"\"",
            "A202 LIST ~/Mail/ %",
            "A04 LIST (REMOTE) \"\" \"%\" RETURN (CHILDREN)",
            "A06 LIST (REMOTE) \"\" \"*\" RETURN (SUBSCRIBED)",
            "D03 LIST (RECURSIVEMATCH SUBSCRIBED) \"\" \"*2\"",
            "a1 LIST \"\" (\"foo\")",
            "a3 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" foo RETURN (CHILDREN)",
            "A02 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" % RETURN (STATUS (MESSAGES))",
            "A001 NAMESPACE",
            "A002 CREATE \"INBOX.Sent Mail\"",
            "A003 LIST (SPECIAL-USE) \"#mh/\" \"*\"",
            "A002 LIST \"\" \"#Users/%\"",
            "A042 STATUS blurdybloop (UIDNEXT MESSAGES)",
            "A004 COPY 2:4 meeting",
            "A005 UID COPY 305:310 meeting",
            "A002 IDLE",
            "A341 CLOSE",
            "A342 UNSELECT",
            "A202 EXPUNGE",
            "A286 SEARCH RETURN (COUNT) DELETED",
            "A300 SEARCH RETURN (SAVE) SINCE 1-Jan-2004",
            "A301 UID SEARCH $ SMALLER 4096",
            "G283 SEARCH RETURN (ALL) SINCE 28-Oct-2006",
            "C283 SEARCH RETURN (ALL SAVE) SINCE 12-Feb-2006",
            "C286 SEARCH RETURN (MAX SAVE MIN COUNT) SINCE 12-Feb-2006",
            "A003 STORE 2:4 +FLAGS (\\Deleted)",
            "A003 COPY 2:4 MEETING",
            "k2 status \"/archive/projects/experiment-iv\" (messages)",
            "d select inbox",
            "a003 fetch 12 full",
            "a006 logout",
        ] {
            ok(line);
        }
        assert_eq!(err("A442 XPIG-LATIN").message, "unknown command XPIG-LATIN");
    }

    /// imap-codec as an oracle: both parsers accept these lines, with the same
    /// tag and command name.
    #[test]
    fn imap_codec_oracle() {
        use imap_codec::decode::Decoder;
        use imap_codec::CommandCodec;
        let lines = [
            "a1 CAPABILITY",
            "a2 NOOP",
            "a3 LOGOUT",
            "a4 LOGIN fred secret",
            "a5 LOGIN \"fred smith\" \"s\\\"x\"",
            "a6 AUTHENTICATE PLAIN",
            "a7 AUTHENTICATE PLAIN dGVzdAB0ZXN0AHRlc3Q=",
            "a8 SELECT INBOX",
            "a9 EXAMINE \"Sent Items\"",
            "b1 CREATE foo/bar",
            "b2 DELETE foo",
            "b3 RENAME foo bar",
            "b4 SUBSCRIBE foo",
            "b5 UNSUBSCRIBE foo",
            "b6 LIST \"\" *",
            "b7 LIST \"\" %",
            "b8 LSUB \"\" *",
            "b9 STATUS INBOX (MESSAGES UNSEEN UIDNEXT UIDVALIDITY)",
            "c1 CHECK",
            "c2 CLOSE",
            "c3 EXPUNGE",
            "c4 SEARCH ALL",
            "c5 SEARCH UNSEEN FROM \"bob\" SINCE 1-Feb-2024",
            "c6 SEARCH OR SEEN NOT DELETED",
            "c7 SEARCH (OR FROM a TO b) LARGER 100",
            "c8 UID SEARCH UID 1:*",
            "c9 SEARCH CHARSET UTF-8 SUBJECT hello",
            "d1 FETCH 1:* ALL",
            "d2 FETCH 1 FAST",
            "d3 FETCH 1,2,3 FULL",
            "d4 FETCH 1 (FLAGS UID RFC822.SIZE)",
            "d5 FETCH 1 BODY[]",
            "d6 FETCH 1 BODY.PEEK[HEADER.FIELDS (FROM TO)]<0.512>",
            "d7 UID FETCH 1:5 (BODYSTRUCTURE ENVELOPE INTERNALDATE)",
            "d8 FETCH 2 (BODY[1.2.MIME] BODY[TEXT] RFC822.HEADER)",
            "d9 FETCH 1 (BINARY[1] BINARY.SIZE[1])",
            "e1 STORE 1 +FLAGS (\\Seen)",
            "e2 STORE 1:3 -FLAGS.SILENT (\\Deleted $Junk)",
            "e3 UID STORE 5 FLAGS ()",
            "e4 COPY 1:2 Archive",
            "e5 UID COPY 1 \"Other\"",
            "e6 MOVE 1 Trash",
            "e7 UID MOVE 1:* Trash",
            "e8 ENABLE UTF8=ACCEPT",
            "e9 IDLE",
            "f1 UNSELECT",
            "f2 UID EXPUNGE 1:3",
        ];
        for line in lines {
            let ours = parse_parts(&[line.as_bytes()]).unwrap_or_else(|e| panic!("{line}: {e}"));
            let wire = format!("{line}\r\n");
            let (rem, theirs) =
                CommandCodec::default().decode(wire.as_bytes()).unwrap_or_else(|e| panic!("{line}: {e:?}"));
            assert!(rem.is_empty(), "{line}");
            assert_eq!(ours.tag.as_str(), theirs.tag.inner(), "{line}");
            let ours_name = ours.body.name().trim_start_matches("UID ");
            assert_eq!(ours_name, theirs.body.name(), "{line}");
        }
        // And both reject these.
        for line in ["a1 FETCH 0 FLAGS", "a1 NOOP x", "a1 LOGIN fred", "a1 SEARCH FOO", "a1 SELECT"] {
            assert!(parse_parts(&[line.as_bytes()]).is_err(), "{line}");
            let wire = format!("{line}\r\n");
            assert!(CommandCodec::default().decode(wire.as_bytes()).is_err(), "{line}");
        }
    }

    /// A small deterministic PRNG (xorshift64*).
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    #[test]
    fn no_panics_on_garbage() {
        let seeds: &[&[u8]] = &[
            b"a FETCH 1:*,5 (BODY.PEEK[1.2.HEADER.FIELDS (A B)]<0.10> BINARY[1] MODSEQ) (CHANGEDSINCE 5)",
            b"a SEARCH RETURN (MIN) CHARSET UTF-8 OR (NOT SEEN 1:3) HEADER x \"y\" MODSEQ \"/flags/\\\\s\" all 5",
            b"a LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (% a/*) RETURN (STATUS (MESSAGES) CHILDREN)",
            b"a APPEND INBOX (\\Seen) \" 1-Feb-2024 12:34:56 +0100\" {3}",
            b"a UID STORE 1 (UNCHANGEDSINCE 5) +FLAGS.SILENT (\\Seen $x)",
            b"a ID (\"a\" NIL \"b\" \"c\")",
            b"a CREATE x (USE (\\Sent))",
            b"a AUTHENTICATE PLAIN =",
            b"a LOGIN {3}",
            b"a SELECT x (CONDSTORE)",
        ];
        let alphabet = b" ()[]{}<>\"\\*%$:,.+-~0123456789ABZaz\x00\r\n\xff";
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for i in 0..6000 {
            let mut line = seeds[i % seeds.len()].to_vec();
            let n = 1 + rng.below(6);
            for _ in 0..n {
                match rng.below(4) {
                    0 if !line.is_empty() => {
                        let p = rng.below(line.len());
                        line[p] = alphabet[rng.below(alphabet.len())];
                    }
                    1 => {
                        let p = rng.below(line.len() + 1);
                        line.insert(p, alphabet[rng.below(alphabet.len())]);
                    }
                    2 if !line.is_empty() => {
                        let p = rng.below(line.len());
                        line.truncate(p);
                    }
                    _ => {
                        let len = rng.below(20);
                        line = (0..len).map(|_| rng.next() as u8).collect();
                    }
                }
            }
            let mut fr = vec![Fragment::Line(line.clone())];
            if rng.below(3) == 0 {
                fr.push(Fragment::Literal(Literal::Memory(b"abc".to_vec())));
                fr.push(Fragment::Line(line[..line.len() / 2].to_vec()));
            }
            let _ = parse_command(fr, &ParseLimits::default());
            let _ = literal_header(&line);
            let _ = peek_tag(&line);
            let _ = parse_sasl_response(&line);
        }
    }

    #[test]
    fn notify() {
        assert_eq!(ok("a NOTIFY NONE"), CommandBody::Notify(None));
        let CommandBody::Notify(Some(set)) = ok(
            "b notify set status (selected MessageNew (uid body.peek[header.fields (from to subject)]) MessageExpunge) (subtree Lists MessageNew)",
        ) else {
            panic!()
        };
        assert!(set.status);
        assert_eq!(set.groups.len(), 2);
        assert_eq!(set.groups[0].filter, NotifyFilter::Selected);
        assert!(matches!(&set.groups[0].events[0], NotifyEvent::MessageNew(a) if a.len() == 2));
        assert_eq!(set.groups[0].events[1], NotifyEvent::MessageExpunge);
        assert_eq!(set.groups[1].filter, NotifyFilter::Subtree(vec![MailboxName("Lists".into())]));
        let CommandBody::Notify(Some(set)) = ok(
            "a NOTIFY SET (mailboxes (INBOX \"a b\") (MessageNew MessageExpunge)) (personal NONE) (inboxes (FooBar))",
        ) else {
            panic!()
        };
        assert!(!set.status);
        assert_eq!(
            set.groups[0].filter,
            NotifyFilter::Mailboxes(vec![MailboxName("INBOX".into()), MailboxName("a b".into())])
        );
        assert!(set.groups[1].events.is_empty());
        assert_eq!(set.groups[2].events, vec![NotifyEvent::Other("FooBar".into())]);
        assert!(err("a NOTIFY").tag.is_some());
        assert!(err("a NOTIFY SET").tag.is_some());
        assert!(err("a NOTIFY SET (bogus (MessageNew))").message.contains("filter"));
        assert!(err("a NOTIFY SET (personal)").tag.is_some());
    }

    #[test]
    fn compress() {
        assert_eq!(ok("a COMPRESS deflate"), CommandBody::Compress { algorithm: "DEFLATE".into() });
        assert!(err("a COMPRESS").tag.is_some());
    }

    #[test]
    fn objectid_and_savedate_grammar() {
        use FetchAttr as F;
        use SearchKey as K;
        // RFC 8474 §4.2 / §7: status-att =/ "MAILBOXID"
        assert_eq!(
            ok("a STATUS foo (MAILBOXID messages)"),
            CommandBody::Status { mailbox: mb("foo"), items: vec![StatusItem::MailboxId, StatusItem::Messages] }
        );
        assert!(err("a STATUS foo (MAILBOXIDX)").message.contains("unknown status attribute"));
        // RFC 8474 §5.3, RFC 8514 §4.2: fetch-att =/ "EMAILID" / "THREADID" / "SAVEDATE"
        match ok("a UID FETCH 1:* (emailid THREADID SaveDate FLAGS)") {
            CommandBody::Fetch { items, .. } => {
                assert_eq!(items, vec![F::EmailId, F::ThreadId, F::SaveDate, F::Flags])
            }
            o => panic!("{o:?}"),
        }
        match ok("a FETCH 2 SAVEDATE") {
            CommandBody::Fetch { items, .. } => assert_eq!(items, vec![F::SaveDate]),
            o => panic!("{o:?}"),
        }
        assert!(err("a FETCH 1 (EMAILIDS)").message.contains("unknown fetch attribute"));
        // RFC 8474 §6: search-key =/ "EMAILID" SP objectid / "THREADID" SP objectid
        assert_eq!(search("a SEARCH EMAILID M6d99ac3275bb4e").2, K::EmailId("M6d99ac3275bb4e".into()));
        assert_eq!(
            search("a UID SEARCH threadid T64b478a75b7ea9 NOT EMAILID M_a-1").2,
            K::And(vec![K::ThreadId("T64b478a75b7ea9".into()), K::Not(Box::new(K::EmailId("M_a-1".into())))])
        );
        assert!(err("a SEARCH EMAILID").message.contains("expected SP"));
        assert_eq!(err("a SEARCH EMAILID \"M1\"").message, "expected object id");
        assert!(err(&format!("a SEARCH THREADID T{}", "0".repeat(255))).message.contains("longer than 255"));
        ok(&format!("a SEARCH THREADID T{}", "0".repeat(254)));
        // RFC 8514 §4.3
        assert_eq!(
            search("a SEARCH SAVEDBEFORE 1-Feb-2019 SAVEDON \"28-Dec-2014\" SAVEDSINCE 03-Mar-2020 SAVEDATESUPPORTED")
                .2,
            K::And(vec![
                K::SavedBefore(date(2019, 2, 1)),
                K::SavedOn(date(2014, 12, 28)),
                K::SavedSince(date(2020, 3, 3)),
                K::SaveDateSupported,
            ])
        );
        assert!(err("a SEARCH SAVEDON 31-Feb-2019").message.contains("invalid day"));
        assert!(err("a SEARCH SAVEDATESUPPORTEDX").message.contains("unknown search key"));
    }
}

/// RFC 9208 grammar (GETQUOTA, GETQUOTAROOT, SETQUOTA, STATUS DELETED-STORAGE).
#[cfg(test)]
mod quota_tests {
    use super::*;

    fn parse(line: &str) -> Result<CommandBody, ParseError> {
        parse_command(vec![Fragment::Line(line.as_bytes().to_vec())], &ParseLimits::default()).map(|c| c.body)
    }

    fn ok(line: &str) -> CommandBody {
        parse(line).unwrap_or_else(|e| panic!("{line:?}: {e}"))
    }

    #[test]
    fn getquota_getquotaroot() {
        assert_eq!(
            ok("G0001 GETQUOTA \"my_funky_quota_root\""),
            CommandBody::GetQuota { root: "my_funky_quota_root".into() }
        );
        assert_eq!(ok("a getquota \"\""), CommandBody::GetQuota { root: String::new() });
        assert_eq!(ok("a GETQUOTA user"), CommandBody::GetQuota { root: "user".into() });
        assert_eq!(ok("G0002 GETQUOTAROOT INBOX"), CommandBody::GetQuotaRoot { mailbox: MailboxName("INBOX".into()) });
        assert_eq!(ok("a GetQuotaRoot \"a b\"").name(), "GETQUOTAROOT");
        for bad in ["a GETQUOTA", "a GETQUOTA ", "a GETQUOTAROOT", "a GETQUOTA x y", "a GETQUOTAROOT (x)"] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn setquota() {
        assert_eq!(
            ok("S0000 SETQUOTA \"User quota\" (STORAGE 510)"),
            CommandBody::SetQuota { root: "User quota".into(), limits: vec![("STORAGE".into(), 510)] }
        );
        assert_eq!(
            ok("a SETQUOTA \"\" (storage 1 message 9223372036854775807 X-Foo 0)"),
            CommandBody::SetQuota {
                root: String::new(),
                limits: vec![("STORAGE".into(), 1), ("MESSAGE".into(), i64::MAX as u64), ("X-FOO".into(), 0)]
            }
        );
        assert_eq!(ok("a SETQUOTA \"\" ()"), CommandBody::SetQuota { root: String::new(), limits: vec![] });
        for bad in [
            "a SETQUOTA \"\"",
            "a SETQUOTA \"\" (STORAGE)",
            "a SETQUOTA \"\" (STORAGE x)",
            "a SETQUOTA \"\" (STORAGE 1",
            "a SETQUOTA \"\" (STORAGE 1 )",
            "a SETQUOTA \"\" STORAGE 1",
            "a SETQUOTA \"\" (STORAGE 9223372036854775808)",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn status_deleted_storage() {
        assert_eq!(
            ok("S0003 STATUS INBOX (MESSAGES DELETED DELETED-STORAGE)"),
            CommandBody::Status {
                mailbox: MailboxName("INBOX".into()),
                items: vec![StatusItem::Messages, StatusItem::Deleted, StatusItem::DeletedStorage]
            }
        );
        assert_eq!(StatusItem::DeletedStorage.as_str(), "DELETED-STORAGE");
    }

    /// imap-codec (an independent parser) reads the same lines as the same commands.
    #[test]
    fn imap_codec_agrees() {
        use imap_codec::decode::Decoder;
        use imap_codec::CommandCodec;
        for line in
            ["a GETQUOTA \"\"", "a GETQUOTAROOT INBOX", "a SETQUOTA \"\" (STORAGE 512 MESSAGE 10)", "a SETQUOTA x ()"]
        {
            let wire = format!("{line}\r\n");
            let theirs = CommandCodec::default().decode(wire.as_bytes());
            assert!(matches!(theirs, Ok((rest, _)) if rest.is_empty()), "imap-codec: {line}");
            assert!(parse(line).is_ok(), "ours: {line}");
        }
    }
}

/// RFC 5464 (METADATA) and RFC 9590 (LIST-METADATA) grammar.
#[cfg(test)]
mod metadata_tests {
    use super::*;

    fn parse(parts: &[&[u8]]) -> Result<CommandBody, ParseError> {
        let frags =
            parts
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    if i % 2 == 0 {
                        Fragment::Line(p.to_vec())
                    } else {
                        Fragment::Literal(Literal::Memory(p.to_vec()))
                    }
                })
                .collect();
        parse_command(frags, &ParseLimits::default()).map(|c| c.body)
    }

    fn ok(line: &str) -> CommandBody {
        parse(&[line.as_bytes()]).unwrap_or_else(|e| panic!("{line:?}: {e}"))
    }

    fn get(mailbox: &str, max_size: Option<u64>, depth: MetadataDepth, entries: &[&str]) -> CommandBody {
        CommandBody::GetMetadata {
            mailbox: MailboxName(mailbox.into()),
            options: MetadataOptions { max_size, depth },
            entries: entries.iter().map(|e| e.to_string()).collect(),
        }
    }

    fn mem(s: &str) -> Option<Literal> {
        Some(Literal::Memory(s.as_bytes().to_vec()))
    }

    /// The command lines of RFC 5464 §4.2–4.3, as printed there.
    #[test]
    fn rfc5464_examples() {
        use MetadataDepth::*;
        assert_eq!(ok("a GETMETADATA \"\" /shared/comment"), get("", None, Zero, &["/shared/comment"]));
        assert_eq!(ok("a GETMETADATA \"INBOX\" /private/comment"), get("INBOX", None, Zero, &["/private/comment"]));
        assert_eq!(
            ok("a GETMETADATA \"INBOX\" (/shared/comment /private/comment)"),
            get("INBOX", None, Zero, &["/shared/comment", "/private/comment"])
        );
        // §4.4.1 lists two entries without parentheses.
        assert_eq!(
            ok("a GETMETADATA \"INBOX\" /private/comment /shared/comment"),
            get("INBOX", None, Zero, &["/private/comment", "/shared/comment"])
        );
        // §4.2.1 prints the options after the mailbox (against §5's grammar).
        assert_eq!(
            ok("a GETMETADATA \"INBOX\" (MAXSIZE 1024) (/shared/comment /private/comment)"),
            get("INBOX", Some(1024), Zero, &["/shared/comment", "/private/comment"])
        );
        assert_eq!(
            ok("a GETMETADATA \"INBOX\" (DEPTH 1) (/private/filters/values)"),
            get("INBOX", None, One, &["/private/filters/values"])
        );
        assert_eq!(
            ok("a GETMETADATA (MAXSIZE 1024) \"INBOX\" (/shared/comment /private/comment)"),
            get("INBOX", Some(1024), Zero, &["/shared/comment", "/private/comment"])
        );
        assert_eq!(
            ok("a GETMETADATA (DEPTH 1) \"INBOX\" (/private/filters/values)"),
            get("INBOX", None, One, &["/private/filters/values"])
        );
        assert_eq!(
            ok("a getmetadata (depth INFINITY maxsize 5) \"\" /private"),
            get("", Some(5), Infinity, &["/private"])
        );
        assert_eq!(
            parse(&[b"a SETMETADATA INBOX (/private/comment {33}", b"My new comment across\r\ntwo lines.", b")"])
                .unwrap(),
            CommandBody::SetMetadata {
                mailbox: MailboxName("INBOX".into()),
                entries: vec![("/private/comment".into(), mem("My new comment across\r\ntwo lines."))]
            }
        );
        assert_eq!(
            ok("a SETMETADATA INBOX (/private/comment NIL)"),
            CommandBody::SetMetadata {
                mailbox: MailboxName("INBOX".into()),
                entries: vec![("/private/comment".into(), None)]
            }
        );
        assert_eq!(
            ok("a SETMETADATA INBOX (/private/comment \"My new comment\" /shared/comment \"This one is for you!\")"),
            CommandBody::SetMetadata {
                mailbox: MailboxName("INBOX".into()),
                entries: vec![
                    ("/private/comment".into(), mem("My new comment")),
                    ("/shared/comment".into(), mem("This one is for you!"))
                ]
            }
        );
    }

    /// `value = nstring / literal8`: binary values with NUL arrive as literal8.
    #[test]
    fn literal8_values() {
        let body = parse(&[b"a SETMETADATA \"\" (/private/vendor/x/bin ~{3}", b"a\0b", b")"]).unwrap();
        assert_eq!(
            body,
            CommandBody::SetMetadata {
                mailbox: MailboxName(String::new()),
                entries: vec![("/private/vendor/x/bin".into(), Some(Literal::Memory(b"a\0b".to_vec())))]
            }
        );
        assert!(parse(&[b"a SETMETADATA \"\" (/private/comment {3}", b"a\0b", b")"]).is_err(), "NUL needs literal8");
    }

    /// RFC 5464 §3.2: invalid entry names are BAD in any command.
    #[test]
    fn invalid_entry_names() {
        for entry in [
            "/foo/bar",
            "comment",
            "/shared//comment",
            "/shared/comment/",
            "/shared/comm*nt",
            "/shared/comm%nt",
            "\"/shared/c\u{f6}mment\"",
            "\"/shared/a\tb\"",
            "/",
        ] {
            assert!(parse(&[format!("a GETMETADATA \"\" {entry}").as_bytes()]).is_err(), "GET {entry}");
            assert!(parse(&[format!("a SETMETADATA \"\" ({entry} NIL)").as_bytes()]).is_err(), "SET {entry}");
        }
        // Roots are fine to read below (DEPTH), not to set; vendor entries need four components.
        assert!(parse(&[b"a GETMETADATA \"\" /shared"]).is_ok());
        for entry in ["/shared", "/private", "/shared/vendor", "/private/vendor/deltachat"] {
            assert!(parse(&[format!("a SETMETADATA \"\" ({entry} NIL)").as_bytes()]).is_err(), "SET {entry}");
        }
        assert!(parse(&[b"a SETMETADATA \"\" (/shared/vendor/deltachat/irohrelay NIL)"]).is_ok());
        assert!(parse(&[b"a SETMETADATA \"\" (/Private/Comment NIL)"]).is_ok(), "prefixes are case-insensitive");
    }

    #[test]
    fn malformed_commands() {
        for bad in [
            "a GETMETADATA",
            "a GETMETADATA \"\"",
            "a GETMETADATA () \"\" /shared/comment",
            "a GETMETADATA (DEPTH 2) \"\" /shared/comment",
            "a GETMETADATA (MAXSIZE) \"\" /shared/comment",
            "a GETMETADATA (MAXSIZE -1) \"\" /shared/comment",
            "a GETMETADATA (FOO 1) \"\" /shared/comment",
            "a GETMETADATA \"\" ()",
            "a SETMETADATA INBOX",
            "a SETMETADATA INBOX ()",
            "a SETMETADATA INBOX /private/comment \"x\"",
            "a SETMETADATA INBOX (/private/comment)",
            "a SETMETADATA INBOX (/private/comment x)",
            "a SETMETADATA INBOX (/private/comment \"x\"",
        ] {
            assert!(parse(&[bad.as_bytes()]).is_err(), "{bad:?}");
        }
    }

    /// RFC 9590: `LIST … RETURN (METADATA (entries))`, options among them.
    #[test]
    fn list_return_metadata() {
        let CommandBody::List(l) = ok("a LIST \"\" % RETURN (METADATA (/shared/comment /private/comment))") else {
            panic!()
        };
        assert!(l.extended);
        assert_eq!(
            l.ret.metadata,
            Some((MetadataOptions::default(), vec!["/shared/comment".into(), "/private/comment".into()]))
        );
        let CommandBody::List(l) = ok("a LIST \"\" * RETURN (CHILDREN METADATA (MAXSIZE 10 /shared/comment))") else {
            panic!()
        };
        assert!(l.ret.children);
        assert_eq!(
            l.ret.metadata,
            Some((MetadataOptions { max_size: Some(10), depth: MetadataDepth::Zero }, vec!["/shared/comment".into()]))
        );
        let CommandBody::List(l) = ok("a LIST \"\" * RETURN (METADATA ((DEPTH 1) /private))") else { panic!() };
        assert_eq!(l.ret.metadata.map(|m| m.0.depth), Some(MetadataDepth::One));
        for bad in [
            "a LIST \"\" * RETURN (METADATA)",
            "a LIST \"\" * RETURN (METADATA ())",
            "a LIST \"\" * RETURN (METADATA (MAXSIZE 1))",
            "a LIST \"\" * RETURN (METADATA (/bad/name))",
        ] {
            assert!(parse(&[bad.as_bytes()]).is_err(), "{bad:?}");
        }
    }

    /// Mutated METADATA commands never panic the parser.
    #[test]
    fn no_panics_on_garbage() {
        let seeds: &[&[u8]] = &[
            b"a GETMETADATA (MAXSIZE 10 DEPTH infinity) \"\" (/shared/a /private/b/c)",
            b"a GETMETADATA INBOX (DEPTH 1) /private",
            b"a SETMETADATA INBOX (/private/a \"x\" /shared/b NIL /shared/vendor/v/c {3}",
            b"a SETMETADATA \"\" (/private/a ~{3}",
            b"a LIST \"\" * RETURN (METADATA ((MAXSIZE 5) /shared/a DEPTH 1))",
        ];
        let alphabet = b" ()/{}~\"*%0123456789AZaz\x00\xff";
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = |n: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n as u64) as usize
        };
        for i in 0..3000 {
            let mut line = seeds[i % seeds.len()].to_vec();
            for _ in 0..1 + next(4) {
                let p = next(line.len() + 1);
                match next(3) {
                    0 if p < line.len() => line[p] = alphabet[next(alphabet.len())],
                    1 => line.insert(p, alphabet[next(alphabet.len())]),
                    _ => line.truncate(p),
                }
            }
            let lit: &[u8] = if next(2) == 0 { b"a\0c" } else { b"abc" };
            let _ = parse(&[&line, lit, b")"]);
            let _ = parse(&[&line]);
        }
    }

    /// imap-codec (an independent parser) reads the same lines as commands
    /// where it knows the extension.
    #[test]
    fn imap_codec_agrees() {
        use imap_codec::decode::Decoder;
        use imap_codec::CommandCodec;
        for line in [
            "a GETMETADATA \"\" /shared/comment",
            "a GETMETADATA (MAXSIZE 1024 DEPTH infinity) INBOX (/shared/comment /private/comment)",
            "a SETMETADATA INBOX (/private/comment \"x\" /shared/comment NIL)",
        ] {
            let wire = format!("{line}\r\n");
            let theirs = CommandCodec::default().decode(wire.as_bytes());
            assert!(matches!(theirs, Ok((rest, _)) if rest.is_empty()), "imap-codec: {line}");
            assert!(parse(&[line.as_bytes()]).is_ok(), "ours: {line}");
        }
    }
}
