//! SEARCH criteria evaluation (RFC 9051 §6.4.4; RFC 3501 NEW/OLD/RECENT;
//! RFC 7162 MODSEQ; RFC 5032 OLDER/YOUNGER).
//!
//! String keys match case-insensitively (Unicode lower-casing) as substrings
//! of decoded text: RFC 2047 encoded words in headers and the
//! Content-Transfer-Encoding and charset of text parts are undone first.

use std::cell::OnceCell;

use imap_proto::{Date, SearchKey};
use store::{Flags, MessageMeta, MessageRecord, MessageText, TextDoc, TextField, TextTerm};

use super::fetch::{self, Kind, Node};

/// One message as SEARCH sees it.
#[derive(Debug, Clone, Copy)]
pub struct SearchContext<'a> {
    /// Message sequence number.
    pub seq: u32,
    /// The largest sequence number in the mailbox (what `*` means in a sequence set).
    pub largest_seq: u32,
    /// The largest UID in the mailbox (what `*` means in `UID` sets).
    pub largest_uid: u32,
    pub record: &'a MessageRecord,
    /// The full message (`record.prefix` + blob). The caller provides it
    /// only when [`needs_body`] says the key needs it.
    pub raw: Option<&'a [u8]>,
    /// The current time, Unix seconds (OLDER/YOUNGER).
    pub now: i64,
    /// Whether the message is `\Recent` for this session (RFC 3501 §2.3.2).
    pub recent: bool,
}

/// Whether evaluating `key` needs the message bytes (BCC, HEADER, BODY, TEXT);
/// all other keys are answered from the record and its stored metadata.
pub fn needs_body(key: &SearchKey) -> bool {
    match key {
        SearchKey::Bcc(_) | SearchKey::Header(..) | SearchKey::Body(_) | SearchKey::Text(_) => true,
        SearchKey::Not(k) => needs_body(k),
        SearchKey::Or(a, b) => needs_body(a) || needs_body(b),
        SearchKey::And(keys) => keys.iter().any(needs_body),
        _ => false,
    }
}

/// Whether the message matches `key`.
pub fn matches(key: &SearchKey, msg: &SearchContext<'_>) -> bool {
    let content = Content { raw: msg.raw, headers: OnceCell::new(), texts: OnceCell::new() };
    eval(key, msg, &content)
}

/// The message's decoded text, computed on first use and shared by all the
/// keys of one evaluation.
struct Content<'a> {
    raw: Option<&'a [u8]>,
    /// Top-level header fields: lower-case name, lower-cased decoded value.
    headers: OnceCell<Vec<(String, String)>>,
    /// Lower-cased decoded text of every text part.
    texts: OnceCell<Vec<String>>,
}

impl Content<'_> {
    fn headers(&self) -> &[(String, String)] {
        self.headers.get_or_init(|| {
            let Some(raw) = self.raw else {
                return Vec::new();
            };
            let h = fetch::top_header_len(raw);
            fetch::split_headers(&raw[..h])
                .iter()
                .map(|f| {
                    let name = String::from_utf8_lossy(f.name).to_lowercase();
                    let value = fetch::decode_text(f.value).to_lowercase();
                    (name, value)
                })
                .collect()
        })
    }

    fn texts(&self) -> &[String] {
        self.texts.get_or_init(|| {
            let Some(raw) = self.raw else {
                return Vec::new();
            };
            let msg = fetch::parse(raw);
            let root = fetch::build(raw, msg.as_ref());
            let mut out = Vec::new();
            collect_texts(raw, &root, &mut out);
            out
        })
    }
}

/// Every value the BCC key compares against, lower-cased: each top-level
/// Bcc field as display addresses and as decoded text.
fn bcc_values(raw: &[u8]) -> Vec<String> {
    let h = fetch::top_header_len(raw);
    fetch::split_headers(&raw[..h])
        .iter()
        .filter(|f| f.name.eq_ignore_ascii_case(b"bcc"))
        .flat_map(|f| [fetch::display_addresses(f.value).to_lowercase(), fetch::decode_text(f.value).to_lowercase()])
        .collect()
}

/// The text the full-text index keeps for the message `raw` (the bytes as
/// served: trace prefix and blob), built from exactly the strings [`matches`]
/// compares against, so that "the needle is a substring of what SEARCH
/// checks" implies "every trigram of the needle is in the index"
/// (issue #7; `store::account::fts`). `meta` is the message's stored
/// metadata (SUBJECT, FROM, TO and CC are matched against it).
///
/// `None` if decoding panicked (a parser bug on hostile input): the message
/// then stays unindexed, and SEARCH reads it.
pub fn message_text(raw: &[u8], meta: &MessageMeta) -> Option<MessageText> {
    message_text_of(raw, None, meta)
}

/// [`message_text`] with the MIME tree already built (delivery parses once).
pub(crate) fn message_text_of(raw: &[u8], root: Option<&Node<'_>>, meta: &MessageMeta) -> Option<MessageText> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| text_of(raw, root, meta, None))).ok()
}

/// The index document of the same message served with another trace prefix
/// (one per LMTP recipient): only the header fields differ, so the rest of
/// `first` is reused instead of decoding every part again.
pub(crate) fn message_text_reheaded(raw: &[u8], first: &TextDoc, meta: &MessageMeta) -> Option<TextDoc> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| text_of(raw, None, meta, Some("")).headers))
        .ok()
        .map(|headers| first.reheaded(&headers))
}

fn text_of(raw: &[u8], root: Option<&Node<'_>>, meta: &MessageMeta, body: Option<&str>) -> MessageText {
    let content = Content { raw: Some(raw), headers: OnceCell::new(), texts: OnceCell::new() };
    if body.is_some() {
        let _ = content.texts.set(Vec::new());
    } else if let Some(root) = root {
        let mut out = Vec::new();
        collect_texts(raw, root, &mut out);
        let _ = content.texts.set(out);
    }
    let mut headers = String::new();
    for (n, v) in content.headers() {
        headers.push_str(n);
        headers.push_str(": ");
        headers.push_str(v);
        headers.push('\n');
    }
    MessageText {
        subject: meta.subject.to_lowercase(),
        from: meta.from.to_lowercase(),
        to: meta.to.to_lowercase(),
        cc: meta.cc.to_lowercase(),
        bcc: bcc_values(raw).join("\n"),
        headers,
        body: body.map_or_else(|| content.texts().join("\n"), str::to_string),
    }
}

/// The terms the full-text index can narrow `key` with: the string keys
/// that every match must satisfy (AND-ed at the top level; under NOT or OR a
/// key proves nothing about the message). Needles are lower-cased as
/// [`matches`] lower-cases them. Empty when nothing can narrow.
pub fn index_terms(key: &SearchKey) -> Vec<TextTerm> {
    let mut out = Vec::new();
    collect_terms(key, &mut out);
    out
}

fn collect_terms(key: &SearchKey, out: &mut Vec<TextTerm>) {
    use TextField::*;
    let mut term =
        |fields: &[TextField], s: &str| out.push(TextTerm { fields: fields.to_vec(), needle: s.to_lowercase() });
    match key {
        SearchKey::And(keys) => keys.iter().for_each(|k| collect_terms(k, out)),
        SearchKey::Subject(s) => term(&[Subject], s),
        SearchKey::From(s) => term(&[From], s),
        SearchKey::To(s) => term(&[To], s),
        SearchKey::Cc(s) => term(&[Cc], s),
        SearchKey::Bcc(s) => term(&[Bcc], s),
        SearchKey::Body(s) => term(&[Body], s),
        SearchKey::Text(s) => term(&[Headers, Body], s),
        // A header line is `name: value`, so both halves are in the column.
        SearchKey::Header(name, value) => {
            term(&[Headers], name);
            term(&[Headers], value);
        }
        _ => {}
    }
}

fn collect_texts(raw: &[u8], node: &Node<'_>, out: &mut Vec<String>) {
    match &node.kind {
        Kind::Multipart(children) => children.iter().for_each(|c| collect_texts(raw, c, out)),
        Kind::Message(inner) => {
            // The encapsulated message's header is part of the outer body.
            out.push(fetch::decode_text(&raw[inner.header.clone()]).to_lowercase());
            collect_texts(raw, inner, out);
        }
        Kind::Leaf if node.ctype == "text" => {
            let text = match node.part.map(|p| &p.body) {
                Some(mail_parser::PartType::Text(t)) => t.to_lowercase(),
                // HTML is searched as the text a reader sees, not its markup.
                Some(mail_parser::PartType::Html(t)) => mail_parser::decoders::html::html_to_text(t).to_lowercase(),
                _ => String::from_utf8_lossy(&raw[node.body.clone()]).to_lowercase(),
            };
            out.push(text);
        }
        Kind::Leaf => {}
    }
}

fn contains(haystack: &str, needle_lower: &str) -> bool {
    haystack.to_lowercase().contains(needle_lower)
}

fn eval(key: &SearchKey, m: &SearchContext<'_>, c: &Content<'_>) -> bool {
    let r = m.record;
    let flag = |bit| r.flags.has(bit);
    match key {
        SearchKey::All => true,
        SearchKey::Answered => flag(Flags::ANSWERED),
        SearchKey::Deleted => flag(Flags::DELETED),
        SearchKey::Draft => flag(Flags::DRAFT),
        SearchKey::Flagged => flag(Flags::FLAGGED),
        SearchKey::Seen => flag(Flags::SEEN),
        SearchKey::Unanswered => !flag(Flags::ANSWERED),
        SearchKey::Undeleted => !flag(Flags::DELETED),
        SearchKey::Undraft => !flag(Flags::DRAFT),
        SearchKey::Unflagged => !flag(Flags::FLAGGED),
        SearchKey::Unseen => !flag(Flags::SEEN),
        SearchKey::Keyword(k) => r.flags.has_keyword(k),
        SearchKey::Unkeyword(k) => !r.flags.has_keyword(k),
        // RFC 3501 §6.4.4: \Recent as this session knows it (never for IMAP4rev2).
        SearchKey::Recent => m.recent,
        SearchKey::New => m.recent && !flag(Flags::SEEN),
        SearchKey::Old => !m.recent,
        SearchKey::Before(d) => internal_date(r).is_some_and(|x| x < *d),
        SearchKey::On(d) => internal_date(r).is_some_and(|x| x == *d),
        SearchKey::Since(d) => internal_date(r).is_some_and(|x| x >= *d),
        SearchKey::SentBefore(d) => sent_date(m).is_some_and(|x| x < *d),
        SearchKey::SentOn(d) => sent_date(m).is_some_and(|x| x == *d),
        SearchKey::SentSince(d) => sent_date(m).is_some_and(|x| x >= *d),
        SearchKey::Larger(n) => r.size > *n,
        SearchKey::Smaller(n) => r.size < *n,
        SearchKey::From(s) => contains(&r.meta.from, &s.to_lowercase()),
        SearchKey::To(s) => contains(&r.meta.to, &s.to_lowercase()),
        SearchKey::Cc(s) => contains(&r.meta.cc, &s.to_lowercase()),
        SearchKey::Subject(s) => contains(&r.meta.subject, &s.to_lowercase()),
        SearchKey::Bcc(s) => {
            let needle = s.to_lowercase();
            c.raw.is_some_and(|raw| bcc_values(raw).iter().any(|v| v.contains(&needle)))
        }
        SearchKey::Header(name, value) => {
            let name = name.to_lowercase();
            let value = value.to_lowercase();
            c.headers().iter().any(|(n, v)| *n == name && v.contains(&value))
        }
        SearchKey::Body(s) => {
            let needle = s.to_lowercase();
            c.texts().iter().any(|t| t.contains(&needle))
        }
        SearchKey::Text(s) => {
            let needle = s.to_lowercase();
            if c.raw.is_none() {
                let meta = &r.meta;
                return [&meta.subject, &meta.from, &meta.to, &meta.cc].iter().any(|v| contains(v, &needle));
            }
            c.headers().iter().any(|(n, v)| n.contains(&needle) || v.contains(&needle))
                || c.texts().iter().any(|t| t.contains(&needle))
        }
        SearchKey::Uid(set) => set.contains(r.uid, m.largest_uid),
        SearchKey::SequenceSet(set) => set.contains(m.seq, m.largest_seq),
        SearchKey::Not(k) => !eval(k, m, c),
        SearchKey::Or(a, b) => eval(a, m, c) || eval(b, m, c),
        SearchKey::And(keys) => keys.iter().all(|k| eval(k, m, c)),
        SearchKey::ModSeq(n) => r.modseq >= *n,
        SearchKey::Older(n) => m.now.saturating_sub(r.internal_date) >= i64::try_from(*n).unwrap_or(i64::MAX),
        SearchKey::Younger(n) => m.now.saturating_sub(r.internal_date) < i64::try_from(*n).unwrap_or(i64::MAX),
        SearchKey::EmailId(_)
        | SearchKey::ThreadId(_)
        | SearchKey::SavedBefore(_)
        | SearchKey::SavedOn(_)
        | SearchKey::SavedSince(_)
        | SearchKey::SaveDateSupported => eval_objectid(key, r),
    }
}

/// RFC 8474 §6 EMAILID/THREADID (exact, case-sensitive object ids) and
/// RFC 8514 §4.3 SAVED* keys. Save dates are compared as UTC dates (they are
/// reported with `+0000`); every mailbox keeps save dates, so
/// SAVEDATESUPPORTED matches every message.
fn eval_objectid(key: &SearchKey, r: &MessageRecord) -> bool {
    let saved = || date_in_zone(r.save_date, 0);
    match key {
        SearchKey::EmailId(id) => r.email_id == *id,
        SearchKey::ThreadId(id) => r.thread_id == *id,
        SearchKey::SavedBefore(d) => saved().is_some_and(|x| x < *d),
        SearchKey::SavedOn(d) => saved().is_some_and(|x| x == *d),
        SearchKey::SavedSince(d) => saved().is_some_and(|x| x >= *d),
        SearchKey::SaveDateSupported => true,
        _ => false,
    }
}

/// The calendar date of `ts` in the zone `zone_minutes` east of UTC.
fn date_in_zone(ts: i64, zone_minutes: i64) -> Option<Date> {
    use chrono::Datelike;
    let d = chrono::DateTime::from_timestamp(ts.checked_add(zone_minutes * 60)?, 0)?.date_naive();
    Some(Date { year: u16::try_from(d.year()).ok()?, month: d.month() as u8, day: d.day() as u8 })
}

/// INTERNALDATE's date in its own zone ("disregarding time and timezone").
fn internal_date(r: &MessageRecord) -> Option<Date> {
    date_in_zone(r.internal_date, r.internal_date_zone as i64)
}

/// The Date: header's date in the header's own zone when the message is at
/// hand, else the stored timestamp's UTC date; INTERNALDATE when there is
/// no usable Date: header.
fn sent_date(m: &SearchContext<'_>) -> Option<Date> {
    if let Some(raw) = m.raw {
        let h = fetch::top_header_len(raw);
        let date = fetch::split_headers(&raw[..h])
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(b"date"))
            .and_then(|f| fetch::parse_date(f.value));
        if let Some(d) = date {
            return Some(Date { year: d.year, month: d.month, day: d.day });
        }
    }
    match m.record.meta.sent_date {
        Some(ts) => date_in_zone(ts, 0),
        None => internal_date(m.record),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use imap_proto::{SeqNum, SequenceSet};

    const MSG: &[u8] = b"Date: Tue, 1 Jul 2003 23:30:00 -0700\r\n\
From: =?utf-8?q?J=C3=B6rg?= <joerg@example.de>\r\n\
To: Anna <anna@example.org>, bob@example.net\r\n\
Cc: carol@example.com\r\n\
Bcc: Secret Person <dave@hidden.example>\r\n\
Subject: =?ISO-8859-1?Q?Caf=E9_cr=E8me?= tonight\r\n\
X-Mailer: Folded\r\n  Mailer 2.0\r\n\
X-Empty:\r\n\
Content-Type: multipart/mixed; boundary=b\r\n\
\r\n\
--b\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\
\r\n\
Stra=C3=9Fe und M=C3=BCnchen\r\n\
--b\r\n\
Content-Type: application/octet-stream\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
c2VjcmV0IGF0dGFjaG1lbnQ=\r\n\
--b--\r\n";

    fn record(flags: u8, keywords: &[&str]) -> MessageRecord {
        MessageRecord {
            uid: 42,
            modseq: 7,
            flags: Flags { system: flags, keywords: keywords.iter().map(|s| s.to_string()).collect() },
            // 2003-07-02 06:30:00 UTC, i.e. 2003-07-01 23:30 at -0700.
            internal_date: 1_057_127_400,
            internal_date_zone: -420,
            size: MSG.len() as u64,
            blob: store::BlobId("b".into()),
            prefix: Vec::new(),
            meta: fetch::compute_meta(MSG),
            email_id: "M0123456789abcdef01234567".into(),
            thread_id: "T0123456789abcdef01234567".into(),
            // 2003-07-02 00:30:00 UTC
            save_date: 1_057_105_800,
        }
    }

    fn check(key: SearchKey, r: &MessageRecord, with_raw: bool) -> bool {
        let ctx = SearchContext {
            seq: 3,
            largest_seq: 10,
            largest_uid: 50,
            record: r,
            raw: with_raw.then_some(MSG),
            now: 1_057_127_400 + 100,
            recent: false,
        };
        matches(&key, &ctx)
    }

    fn yes(key: SearchKey, r: &MessageRecord) {
        let raw = needs_body(&key);
        assert!(check(key.clone(), r, raw), "{key:?} should match");
    }

    fn no(key: SearchKey, r: &MessageRecord) {
        let raw = needs_body(&key);
        assert!(!check(key.clone(), r, raw), "{key:?} should not match");
    }

    fn date(year: u16, month: u8, day: u8) -> Date {
        Date { year, month, day }
    }

    fn s(x: &str) -> String {
        x.to_string()
    }

    #[test]
    fn flags() {
        let set = record(Flags::SEEN | Flags::FLAGGED, &["$Junk"]);
        let unset = record(Flags::ANSWERED | Flags::DELETED | Flags::DRAFT, &[]);
        for (k, un) in [(SearchKey::Seen, SearchKey::Unseen), (SearchKey::Flagged, SearchKey::Unflagged)] {
            yes(k.clone(), &set);
            no(un.clone(), &set);
            no(k, &unset);
            yes(un, &unset);
        }
        for (k, un) in [
            (SearchKey::Answered, SearchKey::Unanswered),
            (SearchKey::Deleted, SearchKey::Undeleted),
            (SearchKey::Draft, SearchKey::Undraft),
        ] {
            no(k.clone(), &set);
            yes(un.clone(), &set);
            yes(k, &unset);
            no(un, &unset);
        }
        yes(SearchKey::Keyword(s("$junk")), &set);
        no(SearchKey::Unkeyword(s("$JUNK")), &set);
        no(SearchKey::Keyword(s("$junk")), &unset);
        yes(SearchKey::Unkeyword(s("$junk")), &unset);
        no(SearchKey::New, &unset);
        no(SearchKey::Recent, &unset);
        yes(SearchKey::Old, &unset);
        yes(SearchKey::All, &unset);
    }

    #[test]
    fn internal_dates_use_their_own_zone() {
        let r = record(0, &[]);
        yes(SearchKey::On(date(2003, 7, 1)), &r);
        no(SearchKey::On(date(2003, 7, 2)), &r);
        yes(SearchKey::Before(date(2003, 7, 2)), &r);
        no(SearchKey::Before(date(2003, 7, 1)), &r);
        yes(SearchKey::Since(date(2003, 7, 1)), &r);
        no(SearchKey::Since(date(2003, 7, 2)), &r);
    }

    #[test]
    fn sent_dates() {
        let r = record(0, &[]);
        // Header date 2003-07-01 23:30 -0700 (2003-07-02 UTC).
        assert!(check(SearchKey::SentOn(date(2003, 7, 1)), &r, true));
        assert!(!check(SearchKey::SentOn(date(2003, 7, 2)), &r, true));
        // Without the message, the stored UTC timestamp decides.
        assert!(check(SearchKey::SentOn(date(2003, 7, 2)), &r, false));
        yes(SearchKey::SentBefore(date(2003, 7, 3)), &r);
        no(SearchKey::SentBefore(date(2003, 7, 1)), &r);
        yes(SearchKey::SentSince(date(2003, 6, 30)), &r);
        no(SearchKey::SentSince(date(2003, 7, 3)), &r);
    }

    #[test]
    fn sizes_sets_modseq_age() {
        let r = record(0, &[]);
        let n = MSG.len() as u64;
        yes(SearchKey::Larger(n - 1), &r);
        no(SearchKey::Larger(n), &r);
        yes(SearchKey::Smaller(n + 1), &r);
        no(SearchKey::Smaller(n), &r);
        let set = |a, b| SequenceSet::Ranges(vec![(a, b)]);
        yes(SearchKey::Uid(set(SeqNum::Value(40), SeqNum::Largest)), &r);
        no(SearchKey::Uid(set(SeqNum::Value(1), SeqNum::Value(41))), &r);
        yes(SearchKey::SequenceSet(set(SeqNum::Value(3), SeqNum::Value(3))), &r);
        no(SearchKey::SequenceSet(set(SeqNum::Value(4), SeqNum::Largest)), &r);
        no(SearchKey::SequenceSet(SequenceSet::Saved), &r);
        no(SearchKey::Uid(SequenceSet::Saved), &r);
        yes(SearchKey::ModSeq(7), &r);
        no(SearchKey::ModSeq(8), &r);
        yes(SearchKey::Older(100), &r);
        no(SearchKey::Older(101), &r);
        yes(SearchKey::Younger(101), &r);
        no(SearchKey::Younger(100), &r);
        no(SearchKey::Older(u64::MAX), &r);
        yes(SearchKey::Younger(u64::MAX), &r);
    }

    #[test]
    fn address_and_subject_headers() {
        let r = record(0, &[]);
        yes(SearchKey::From(s("JÖRG")), &r);
        yes(SearchKey::From(s("joerg@example")), &r);
        no(SearchKey::From(s("anna")), &r);
        yes(SearchKey::To(s("Bob@Example.NET")), &r);
        yes(SearchKey::To(s("anna")), &r);
        no(SearchKey::To(s("carol")), &r);
        yes(SearchKey::Cc(s("carol")), &r);
        no(SearchKey::Cc(s("bob")), &r);
        yes(SearchKey::Bcc(s("secret person")), &r);
        yes(SearchKey::Bcc(s("dave@hidden")), &r);
        no(SearchKey::Bcc(s("carol")), &r);
        // RFC 2047 encoded subject matched by a UTF-8 substring.
        yes(SearchKey::Subject(s("café CRÈME")), &r);
        yes(SearchKey::Subject(s("tonight")), &r);
        no(SearchKey::Subject(s("cafe")), &r);
    }

    #[test]
    fn header_key() {
        let r = record(0, &[]);
        yes(SearchKey::Header(s("x-mailer"), s("folded mailer 2.0")), &r);
        yes(SearchKey::Header(s("SUBJECT"), s("crème")), &r);
        no(SearchKey::Header(s("x-mailer"), s("outlook")), &r);
        yes(SearchKey::Header(s("x-empty"), s("")), &r);
        yes(SearchKey::Header(s("X-Mailer"), s("")), &r);
        no(SearchKey::Header(s("x-missing"), s("")), &r);
    }

    #[test]
    fn body_and_text() {
        let r = record(0, &[]);
        // Simple case folding only: ß does not match "ss".
        no(SearchKey::Body(s("strasse")), &r);
        yes(SearchKey::Body(s("straße und münchen")), &r);
        yes(SearchKey::Body(s("MÜNCHEN")), &r);
        no(SearchKey::Body(s("secret attachment")), &r); // not a text part
        no(SearchKey::Body(s("tonight")), &r); // header, not body
        yes(SearchKey::Text(s("tonight")), &r);
        yes(SearchKey::Text(s("münchen")), &r);
        yes(SearchKey::Text(s("x-mailer")), &r);
        no(SearchKey::Text(s("nowhere")), &r);
        // TEXT without the message falls back to the stored keys.
        assert!(check(SearchKey::Text(s("crème")), &r, false));
        assert!(!check(SearchKey::Body(s("münchen")), &r, false));
    }

    #[test]
    fn boolean_combinations() {
        let r = record(Flags::SEEN, &[]);
        yes(SearchKey::Not(Box::new(SearchKey::Unseen)), &r);
        no(SearchKey::Not(Box::new(SearchKey::Seen)), &r);
        yes(SearchKey::Or(Box::new(SearchKey::Unseen), Box::new(SearchKey::Body(s("münchen")))), &r);
        no(SearchKey::Or(Box::new(SearchKey::Unseen), Box::new(SearchKey::Deleted)), &r);
        yes(SearchKey::And(vec![SearchKey::Seen, SearchKey::From(s("jörg"))]), &r);
        no(SearchKey::And(vec![SearchKey::Seen, SearchKey::From(s("anna"))]), &r);
        yes(SearchKey::And(vec![]), &r);
    }

    #[test]
    fn objectid_and_savedate_keys() {
        let r = record(0, &[]);
        yes(SearchKey::EmailId("M0123456789abcdef01234567".into()), &r);
        no(SearchKey::EmailId("m0123456789abcdef01234567".into()), &r);
        no(SearchKey::EmailId("T0123456789abcdef01234567".into()), &r);
        yes(SearchKey::ThreadId("T0123456789abcdef01234567".into()), &r);
        no(SearchKey::ThreadId("M0123456789abcdef01234567".into()), &r);
        // The save date is compared as a UTC date.
        yes(SearchKey::SavedOn(date(2003, 7, 2)), &r);
        no(SearchKey::SavedOn(date(2003, 7, 1)), &r);
        yes(SearchKey::SavedSince(date(2003, 7, 2)), &r);
        no(SearchKey::SavedSince(date(2003, 7, 3)), &r);
        yes(SearchKey::SavedBefore(date(2003, 7, 3)), &r);
        no(SearchKey::SavedBefore(date(2003, 7, 2)), &r);
        yes(SearchKey::SaveDateSupported, &r);
        no(SearchKey::Not(Box::new(SearchKey::SaveDateSupported)), &r);
        assert!(!needs_body(&SearchKey::ThreadId("T1".into())));
    }

    /// The index text holds every string the keys compare against.
    #[test]
    fn message_text_covers_what_matches_reads() {
        let r = record(0, &[]);
        let t = message_text(MSG, &r.meta).unwrap();
        assert!(t.subject.contains("café crème tonight"), "{t:?}");
        assert!(t.from.contains("jörg"));
        assert!(t.to.contains("bob@example.net") && t.cc.contains("carol@example.com"));
        assert!(t.bcc.contains("secret person") && t.bcc.contains("dave@hidden.example"));
        assert!(t.headers.contains("x-mailer: folded mailer 2.0\n"));
        assert!(t.headers.contains("subject: café crème tonight\n"));
        assert!(t.body.contains("straße und münchen"));
        assert!(!t.body.contains("secret attachment"));
    }

    #[test]
    fn reheaded_text_equals_a_fresh_one() {
        let with = |prefix: &[u8]| [prefix, MSG].concat();
        let (a, b) = (with(b"Delivered-To: a@x\r\n"), with(b"Delivered-To: b@y\r\n"));
        let meta = fetch::compute_meta(&a);
        let first = TextDoc::new(&message_text(&a, &meta).unwrap());
        let fresh = message_text(&b, &meta).unwrap();
        assert_eq!(message_text_reheaded(&b, &first, &meta).unwrap(), TextDoc::new(&fresh));
        assert!(fresh.headers.contains("b@y") && !fresh.body.is_empty());
    }

    #[test]
    fn html_is_searched_as_text() {
        let raw: &[u8] = b"Subject: h\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
<html><body><p>Hello <b>bold</b> w&ouml;rld</p></body></html>\r\n";
        let mut r = record(0, &[]);
        r.meta = fetch::compute_meta(raw);
        let check = |key: SearchKey| {
            let ctx = SearchContext {
                seq: 1,
                largest_seq: 1,
                largest_uid: 50,
                record: &r,
                raw: Some(raw),
                now: 0,
                recent: false,
            };
            matches(&key, &ctx)
        };
        assert!(check(SearchKey::Body(s("hello bold"))));
        assert!(check(SearchKey::Body(s("wörld"))));
        assert!(!check(SearchKey::Body(s("<b>"))));
        assert!(!check(SearchKey::Body(s("html"))));
        let text = message_text(raw, &r.meta).unwrap();
        assert!(text.body.contains("hello bold"));
        assert_eq!(r.meta.text, Some(TextDoc::new(&text)), "computed at delivery");
    }

    /// Only string keys that every match must satisfy narrow the search.
    #[test]
    fn index_terms_are_the_anded_string_keys() {
        let key = SearchKey::And(vec![
            SearchKey::Seen,
            SearchKey::Body(s("ZePP")),
            SearchKey::Not(Box::new(SearchKey::Text(s("nope")))),
            SearchKey::Or(Box::new(SearchKey::From(s("a"))), Box::new(SearchKey::To(s("b")))),
            SearchKey::And(vec![SearchKey::Header(s("X-Tag"), s("Value"))]),
        ]);
        let terms = index_terms(&key);
        let got: Vec<(Vec<TextField>, &str)> = terms.iter().map(|t| (t.fields.clone(), t.needle.as_str())).collect();
        assert_eq!(
            got,
            vec![
                (vec![TextField::Body], "zepp"),
                (vec![TextField::Headers], "x-tag"),
                (vec![TextField::Headers], "value"),
            ]
        );
        assert!(index_terms(&SearchKey::Not(Box::new(SearchKey::Body(s("x"))))).is_empty());
        assert_eq!(index_terms(&SearchKey::Text(s("abc")))[0].fields, vec![TextField::Headers, TextField::Body]);
    }

    #[test]
    fn needs_body_classification() {
        assert!(needs_body(&SearchKey::Body(s("x"))));
        assert!(needs_body(&SearchKey::Text(s("x"))));
        assert!(needs_body(&SearchKey::Bcc(s("x"))));
        assert!(needs_body(&SearchKey::Header(s("a"), s("b"))));
        assert!(needs_body(&SearchKey::Not(Box::new(SearchKey::Body(s("x"))))));
        assert!(needs_body(&SearchKey::Or(Box::new(SearchKey::All), Box::new(SearchKey::Text(s("x"))))));
        assert!(needs_body(&SearchKey::And(vec![SearchKey::Seen, SearchKey::Bcc(s("x"))])));
        assert!(!needs_body(&SearchKey::And(vec![SearchKey::Seen, SearchKey::From(s("x"))])));
        assert!(!needs_body(&SearchKey::Subject(s("x"))));
        assert!(!needs_body(&SearchKey::SentOn(date(2000, 1, 1))));
    }
}
