//! SORT keys (RFC 5256 §2–3, RFC 5957 §3–4): base subject extraction,
//! collation, Message-ID normalization, and the per-message keys computed at
//! delivery ([`SortMeta`]) and compared at SORT time ([`sort`]).
//!
//! Collation: RFC 5256 §7 asks for i;unicode-casemap (RFC 5051). postfach
//! folds case to the title case of RFC 5051 §2 step 1 — for every script but
//! a handful of digraphs that is Unicode upper case — ([`casemap`]) and
//! compares the folded strings by code point. Folding up, not down, matters:
//! `[`, `\` and `_` sort after letters, as in i;ascii-casemap (RFC 4790 §9.2)
//! and in Dovecot (imaptest's `sort-subject`). It does not
//! apply the NFKD decomposition of RFC 5051 (no normalization tables in the
//! binary), so e.g. a precomposed "é" and "e" + U+0301 collate apart.

use std::cmp::Ordering;

use imap_proto::{SortCriterion, SortKey};
use store::{MessageMeta, MessageRecord, SortColumn, SortKeys};

/// The base subject (RFC 5256 §2.1) of a decoded subject, and whether the
/// extraction removed a reply/forward indicator (a `subj-refwd`, a `(fwd)`
/// trailer, or a `[fwd: …]` wrapper; RFC 5256 §3 REFERENCES).
///
/// The input is the subject with RFC 2047 encoded words already decoded
/// (step 1's first part happens at delivery); whitespace is normalized here.
pub fn base_subject(subject: &str) -> (String, bool) {
    // (1) tabs and continuations to space, runs of spaces to one.
    let mut s = String::with_capacity(subject.len());
    let mut last_space = false;
    for c in subject.chars() {
        let c = if matches!(c, '\t' | '\r' | '\n') { ' ' } else { c };
        if c == ' ' {
            if !last_space {
                s.push(' ');
            }
            last_space = true;
        } else {
            s.push(c);
            last_space = false;
        }
    }
    let mut reply = false;
    let mut s: &str = &s;
    loop {
        // (2) subj-trailer = "(fwd)" / WSP, repeatedly.
        loop {
            if let Some(t) = s.strip_suffix([' ', '\t']) {
                s = t;
            } else if s.len() >= 5 && s.is_char_boundary(s.len() - 5) && s[s.len() - 5..].eq_ignore_ascii_case("(fwd)")
            {
                s = &s[..s.len() - 5];
                reply = true;
            } else {
                break;
            }
        }
        // (3)–(5) subj-leader and subj-blob prefixes until none is left.
        loop {
            let before = s.len();
            // (3) subj-leader = (*subj-blob subj-refwd) / WSP
            if let Some(t) = s.strip_prefix([' ', '\t']) {
                s = t;
            } else if let Some(n) = leader_refwd(s) {
                s = &s[n..];
                reply = true;
            }
            // (4) a subj-blob, if what remains is a non-empty subj-base.
            if let Some(n) = blob(s) {
                if !s[n..].is_empty() {
                    s = &s[n..];
                }
            }
            if s.len() == before {
                break;
            }
        }
        // (6) subj-fwd-hdr "[fwd:" … subj-fwd-trl "]": unwrap and repeat from (2).
        if s.len() >= 6 && s.is_char_boundary(5) && s[..5].eq_ignore_ascii_case("[fwd:") && s.ends_with(']') {
            s = &s[5..s.len() - 1];
            reply = true;
            continue;
        }
        break;
    }
    (s.to_string(), reply)
}

/// Length of `*subj-blob subj-refwd` at the start of `s`, if it matches.
/// `subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"`
fn leader_refwd(s: &str) -> Option<usize> {
    let mut i = 0;
    while let Some(n) = blob(&s[i..]) {
        i += n;
    }
    let rest = &s.as_bytes()[i..];
    let word = if rest.len() >= 3 && rest[..3].eq_ignore_ascii_case(b"fwd") {
        3
    } else if rest.len() >= 2 && (rest[..2].eq_ignore_ascii_case(b"re") || rest[..2].eq_ignore_ascii_case(b"fw")) {
        2
    } else {
        return None;
    };
    let try_from = |mut j: usize| -> Option<usize> {
        while matches!(rest.get(j), Some(b' ' | b'\t')) {
            j += 1;
        }
        if rest.get(j) == Some(&b':') {
            return Some(j + 1);
        }
        let n = blob(&s[i + j..])?;
        (rest.get(j + n) == Some(&b':')).then_some(j + n + 1)
    };
    // "fwd" may also be "fw" followed by something else; "fw" then "d" cannot
    // continue a refwd, so trying the longer word first is enough.
    try_from(word).map(|n| i + n)
}

/// Length of a `subj-blob = "[" *BLOBCHAR "]" *WSP` at the start of `s`.
fn blob(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if b.first() != Some(&b'[') {
        return None;
    }
    let close = b[1..].iter().position(|&c| c == b']' || c == b'[')? + 1;
    if b[close] != b']' {
        return None;
    }
    let mut j = close + 1;
    while matches!(b.get(j), Some(b' ' | b'\t')) {
        j += 1;
    }
    Some(j)
}

/// Case folding for string sort keys and subject comparison (see the module
/// documentation for how this approximates i;unicode-casemap).
pub fn casemap(s: &str) -> String {
    s.chars().flat_map(char::to_uppercase).collect()
}

/// Normalized Message IDs (RFC 5256 §3 REFERENCES note) found in a header
/// value: the text between each `<` and `>`, with quoting, escapes and
/// whitespace removed. Only IDs of the form `left@right` are valid.
pub fn message_ids(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(start) = rest.find('<') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('>') else { break };
        if let Some(id) = normalize_msgid(&after[..end]) {
            out.push(id);
        }
        rest = &after[end + 1..];
    }
    out
}

/// `<"01KF8JCEOCBS0045PS"@xxx.yyy.com>` and `<01KF8JCEOCBS0045PS@xxx.yyy.com>`
/// are the same Message ID (RFC 5256 §3).
fn normalize_msgid(inner: &str) -> Option<String> {
    let mut id = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {}
            '\\' => id.extend(chars.next()),
            c if c.is_whitespace() => {}
            c => id.push(c),
        }
    }
    let (left, right) = id.rsplit_once('@')?;
    (!left.is_empty() && !right.is_empty()).then_some(id)
}

/// The Message ID of a message as stored in [`store::MessageMeta::message_id`]
/// (angle brackets already stripped), normalized; `None` if it is not valid.
pub fn own_message_id(stored: &str) -> Option<String> {
    message_ids(&format!("<{stored}>")).into_iter().next()
}

/// RFC 5256 §3 REFERENCES: the IDs of `References`, or else the first valid
/// ID of `In-Reply-To`; space-separated for [`store::MessageMeta::thread_refs`].
pub fn thread_refs(references: Option<&str>, in_reply_to: Option<&str>) -> String {
    let refs = references.map(message_ids).unwrap_or_default();
    if !refs.is_empty() {
        return refs.join(" ");
    }
    in_reply_to.map(message_ids).and_then(|v| v.into_iter().next()).unwrap_or_default()
}

/// RFC 2.2 sent date: the Date header in UTC, else the internal date.
pub fn sent_date(r: &MessageRecord) -> i64 {
    r.meta.sent_date.unwrap_or(r.internal_date)
}

/// The string sort key `key` of a message, case-folded: what SORT compares.
fn string_key(m: &MessageMeta, key: SortKey) -> String {
    casemap(match key {
        SortKey::Subject => return casemap(&base_subject(&m.subject).0),
        SortKey::From => &m.from_mailbox,
        SortKey::To => &m.to_mailbox,
        SortKey::Cc => &m.cc_mailbox,
        SortKey::DisplayFrom => &m.display_from,
        SortKey::DisplayTo => &m.display_to,
        SortKey::Arrival | SortKey::Date | SortKey::Size => "",
    })
}

/// The string keys the store keeps per message (issue #6), computed once
/// when the message is stored; [`sort_item`] computes the same values.
pub fn sort_keys(m: &MessageMeta) -> SortKeys {
    let k = |key| string_key(m, key);
    SortKeys {
        subject: k(SortKey::Subject),
        from: k(SortKey::From),
        to: k(SortKey::To),
        cc: k(SortKey::Cc),
        display_from: k(SortKey::DisplayFrom),
        display_to: k(SortKey::DisplayTo),
    }
}

/// The store's column for a sort key.
pub fn sort_column(key: SortKey) -> SortColumn {
    match key {
        SortKey::Arrival => SortColumn::Arrival,
        SortKey::Date => SortColumn::Date,
        SortKey::Size => SortColumn::Size,
        SortKey::Subject => SortColumn::Subject,
        SortKey::From => SortColumn::From,
        SortKey::To => SortColumn::To,
        SortKey::Cc => SortColumn::Cc,
        SortKey::DisplayFrom => SortColumn::DisplayFrom,
        SortKey::DisplayTo => SortColumn::DisplayTo,
    }
}

/// One sort key value of one message.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Value {
    Num(i64),
    Str(String),
}

/// A message as SORT sees it: its key values for the requested criteria.
#[derive(Debug, Clone)]
pub struct SortItem {
    pub seq: u32,
    pub uid: u32,
    pub modseq: u64,
    values: Vec<Value>,
}

/// The key values of `record` for `criteria`, computed from stored metadata.
pub fn sort_item(seq: u32, record: &MessageRecord, criteria: &[SortCriterion]) -> SortItem {
    let values = criteria
        .iter()
        .map(|c| match c.key {
            SortKey::Arrival => Value::Num(record.internal_date),
            SortKey::Date => Value::Num(sent_date(record)),
            SortKey::Size => Value::Num(record.size as i64),
            key => Value::Str(string_key(&record.meta, key)),
        })
        .collect();
    SortItem { seq, uid: record.uid, modseq: record.modseq, values }
}

/// Sorts by the criteria in priority order, REVERSE reversing one criterion
/// only, and by sequence number last (RFC 5256 §3).
pub fn sort(items: &mut [SortItem], criteria: &[SortCriterion]) {
    items.sort_by(|a, b| compare(a, b, criteria));
}

/// The order of [`sort`]. Ties are broken by UID, which within a mailbox is
/// the order of sequence numbers, and stays right for items kept across
/// expunges (RFC 5267 §4 SORT contexts).
pub fn compare(a: &SortItem, b: &SortItem, criteria: &[SortCriterion]) -> Ordering {
    for (i, c) in criteria.iter().enumerate() {
        let o = a.values[i].cmp(&b.values[i]);
        let o = if c.reverse { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.uid.cmp(&b.uid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(s: &str) -> String {
        base_subject(s).0
    }

    #[test]
    fn base_subject_rfc5256_rules() {
        assert_eq!(base_subject("Re: [tag] Fwd: Subject (fwd)"), ("Subject".into(), true));
        assert_eq!(base_subject("re:re: x"), ("x".into(), true));
        assert_eq!(base_subject("Re: Re: Re: x"), ("x".into(), true));
        assert_eq!(base_subject("[PATCH 1/2] x"), ("x".into(), false));
        assert_eq!(base_subject(""), (String::new(), false));
        assert_eq!(base_subject("   \t  "), (String::new(), false));
        assert_eq!(base_subject("Hello"), ("Hello".into(), false));
        assert_eq!(base_subject("  Hello   world \t "), ("Hello world".into(), false));
        assert_eq!(base_subject("Fw: x"), ("x".into(), true));
        assert_eq!(base_subject("FWD : x"), ("x".into(), true));
        assert_eq!(base_subject("Re[2]: x"), ("x".into(), true));
        assert_eq!(base_subject("Re [2]: x"), ("x".into(), true));
        assert_eq!(base_subject("[list] Re: x"), ("x".into(), true));
        assert_eq!(base_subject("[a][b] [c] x"), ("x".into(), false));
        // A blob that would leave nothing is the base subject itself.
        assert_eq!(base_subject("[PATCH]"), ("[PATCH]".into(), false));
        assert_eq!(base_subject("Re: [PATCH]"), ("[PATCH]".into(), true));
        assert_eq!(base_subject("[a] [b]"), ("[b]".into(), false));
        // (fwd) trailers, repeated, and only at the end.
        assert_eq!(base_subject("x (fwd) (FWD)"), ("x".into(), true));
        assert_eq!(base_subject("(fwd) x"), ("(fwd) x".into(), false));
        // [fwd: …] wrappers, nested, with leaders inside.
        assert_eq!(base_subject("[Fwd: Re: hello]"), ("hello".into(), true));
        assert_eq!(base_subject("[fwd: [fwd: hi]]"), ("hi".into(), true));
        assert_eq!(base_subject("Re: [fwd: hi (fwd)]"), ("hi".into(), true));
        // Not leaders: no colon, or a word that merely starts with re.
        assert_eq!(base_subject("Report"), ("Report".into(), false));
        assert_eq!(base_subject("Re x"), ("Re x".into(), false));
        assert_eq!(base_subject("Fwdx: y"), ("Fwdx: y".into(), false));
        assert_eq!(base_subject("Re:"), (String::new(), true));
        assert_eq!(base_subject("Re: "), (String::new(), true));
        assert_eq!(base_subject("Re:x"), ("x".into(), true));
        // Tabs and continuations become single spaces.
        assert_eq!(base("a\r\n\tb"), "a b");
        assert_eq!(base("Résumé: café"), "Résumé: café");
        assert_eq!(base("Re: Ünïcödé"), "Ünïcödé");
        assert_eq!(base("[ü] x"), "x");
        // Unterminated blob stays.
        assert_eq!(base("[abc x"), "[abc x");
    }

    #[test]
    fn casemap_folds_unicode_case() {
        assert_eq!(casemap("HeLLo äöü"), "HELLO ÄÖÜ");
        assert!(casemap("a") < casemap("B"));
        assert!(casemap("") < casemap("a"));
        // Letters fold up, so `[`, `\`, `_` (between `Z` and `a`) sort after them.
        assert!(casemap("zebra") < casemap("[tag]"));
        assert!(casemap("Zebra") < casemap("_x"));
    }

    #[test]
    fn message_ids_are_normalized() {
        assert_eq!(message_ids(r#"<"01KF8JCEOCBS0045PS"@xxx.yyy.com>"#), vec!["01KF8JCEOCBS0045PS@xxx.yyy.com"]);
        assert_eq!(message_ids("<a@b> <c@d>\r\n <e@f>"), vec!["a@b", "c@d", "e@f"]);
        assert_eq!(message_ids("<no-at> <x@y>"), vec!["x@y"]);
        assert_eq!(message_ids("garbage"), Vec::<String>::new());
        assert_eq!(thread_refs(Some("<a@b> <c@d>"), Some("<z@z>")), "a@b c@d");
        assert_eq!(thread_refs(Some("junk"), Some("<z@z> (from x@y) <q@q>")), "z@z");
        assert_eq!(thread_refs(None, Some("foo@bar")), "");
        assert_eq!(own_message_id("a@b> (comment"), Some("a@b".into()));
        assert_eq!(own_message_id(""), None);
    }
}
