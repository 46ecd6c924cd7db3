//! The full-text index (issue #7; migrations `account_0007_fts.sql`,
//! `account_0011_fts_words.sql`).
//!
//! SEARCH's string keys (RFC 9051 §6.4.4: BODY, TEXT, SUBJECT, FROM, TO,
//! CC, BCC, HEADER) are case-insensitive *substring* matches on decoded
//! text. The IMAP layer turns each message into a [`MessageText`] (the same
//! decoded, lower-cased strings its matcher compares against) and that into
//! a [`TextDoc`] when the message is stored, before the write transaction;
//! this module keeps one document per distinct text.
//!
//! A document is the set of *trigrams* (runs of three characters) of each
//! field, one word per distinct trigram ([`TextDoc`]), in an FTS5 table with
//! the `ascii` tokenizer, so a needle of three or more characters can be
//! looked up as "all of its trigrams occur in this column". That is
//! necessary for the needle to be a substring, not sufficient, so the index
//! only *narrows*: [`Account::text_candidates`] returns the messages that
//! may match, and SEARCH confirms each with the exact matcher. Needles
//! shorter than three characters, and messages without a document
//! (`text_id IS NULL`: stored before the index existed, or not decodable),
//! are never excluded. (Deduplicating the trigrams before FTS5 sees them
//! costs a fraction of what the `trigram` tokenizer costs on the whole text,
//! which repeats most trigrams many times.)
//!
//! ## Pending documents
//!
//! A document is written in the same transaction as its message, but into
//! `message_text_pending`, a plain table; the account's writer thread moves
//! pending documents into the FTS5 table in batches ([`fold_pending`]: once
//! [`FOLD_AT`] wait, when the writer has been idle for [`FOLD_IDLE`], and
//! when the account closes). FTS5 writes a new segment for every
//! transaction that inserts into it, and merges segments as they
//! accumulate: with one document per transaction (one delivery per account
//! at a time) that cost several times what indexing the text costs, and
//! made LMTP delivery about 40 % slower (issues #4, #6).
//!
//! This is the one way the index departs from DESIGN.md's "kept in step with
//! messages": every committed message has its document committed with it
//! (nothing is lost in a crash; the writer folds what it finds when the
//! account opens again), but the FTS5 table lags by up to about [`FOLD_AT`]
//! documents per account. Until a document is folded, its messages are
//! candidates for every text search, so results stay exact; only those few
//! messages are read instead of looked up.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension};

use super::Account;
use crate::{BlobId, MailboxId, NewMessage, Result};

/// The text of one message as SEARCH sees it: decoded (RFC 2047 words,
/// transfer encodings, charsets; HTML reduced to text) and lower-cased.
/// Each field holds every string the matching key compares against,
/// separated by newlines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageText {
    /// SUBJECT.
    pub subject: String,
    /// FROM, TO, CC: the address lists as SEARCH compares them.
    pub from: String,
    pub to: String,
    pub cc: String,
    /// BCC: every Bcc field, as display addresses and as decoded text.
    pub bcc: String,
    /// HEADER and TEXT: every top-level header field, `name: value` per line.
    pub headers: String,
    /// BODY and TEXT: the text of every text part (and text attachment).
    pub body: String,
}

/// What the index stores for one message: for each field of its
/// [`MessageText`], every distinct trigram as one word for FTS5's `ascii`
/// tokenizer ([`trigram_words`]). Built outside the write transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextDoc {
    subject: String,
    from: String,
    to: String,
    cc: String,
    bcc: String,
    headers: String,
    body: String,
}

impl TextDoc {
    pub fn new(text: &MessageText) -> TextDoc {
        TextDoc {
            subject: trigram_words(&text.subject),
            from: trigram_words(&text.from),
            to: trigram_words(&text.to),
            cc: trigram_words(&text.cc),
            bcc: trigram_words(&text.bcc),
            headers: trigram_words(&text.headers),
            body: trigram_words(&text.body),
        }
    }

    /// The document of the same message with other header lines (another
    /// LMTP recipient's trace fields): only that column is built again.
    pub fn reheaded(&self, headers: &str) -> TextDoc {
        TextDoc { headers: trigram_words(headers), ..self.clone() }
    }
}

/// The words for `text`: each distinct trigram once, ordered by code points.
/// A trigram's characters are kept as they are, except ASCII other than
/// `a-z0-9`, which becomes `_` and two hex digits (`"o w"` → `o_20w`), so
/// that every word is one token for the `ascii` tokenizer (letters, digits,
/// `_` and all non-ASCII characters are token characters) and distinct
/// trigrams give distinct words.
///
/// Trigrams with a character no one searches for ([`unsearched`]) are left
/// out, and [`match_expression`] never asks for one: binary data decoded as
/// text (a control character or U+FFFD every few characters) would otherwise
/// bring tens of thousands of distinct trigrams per message.
pub fn trigram_words(text: &str) -> String {
    // Most trigrams of a text repeat: deduplicate as they come.
    let mut seen: HashSet<u64, BuildHasherDefault<TrigramHasher>> =
        HashSet::with_capacity_and_hasher(text.len().min(1 << 16) / 8, Default::default());
    let mut w = 0u64;
    // Characters since the last unsearched one.
    let mut run = 0;
    for c in text.chars() {
        if unsearched(c) {
            run = 0;
            continue;
        }
        // Three 21-bit code points.
        w = (w << 21 | u64::from(c)) & ((1 << 63) - 1);
        run += 1;
        if run >= 3 {
            seen.insert(w);
        }
    }
    let mut grams: Vec<u64> = seen.into_iter().collect();
    grams.sort_unstable();
    let mut out = String::with_capacity(grams.len() * 5);
    for g in grams {
        if !out.is_empty() {
            out.push(' ');
        }
        let c = |shift: u32| char::from_u32((g >> shift) as u32 & 0x1f_ffff).unwrap_or(char::REPLACEMENT_CHARACTER);
        push_word([c(42), c(21), c(0)], &mut out);
    }
    out
}

/// Hashes a packed trigram: one multiplication, high bits folded down.
#[derive(Default)]
struct TrigramHasher(u64);

impl Hasher for TrigramHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(self.0 ^ u64::from(b));
        }
    }
    fn write_u64(&mut self, x: u64) {
        let h = x.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        self.0 = h ^ (h >> 29);
    }
}

/// NUL (which IMAP strings cannot hold), the other control characters but
/// TAB, LF and CR, and U+FFFD (what undecodable bytes become).
fn unsearched(c: char) -> bool {
    c == char::REPLACEMENT_CHARACTER || (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

fn push_word(gram: [char; 3], out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for c in gram {
        if c.is_ascii_lowercase() || c.is_ascii_digit() || !c.is_ascii() {
            out.push(c);
        } else {
            out.push('_');
            out.push(char::from(HEX[c as usize >> 4]));
            out.push(char::from(HEX[c as usize & 15]));
        }
    }
}

/// A column of the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextField {
    Subject,
    From,
    To,
    Cc,
    Bcc,
    Headers,
    Body,
}

impl TextField {
    fn column(self) -> &'static str {
        match self {
            TextField::Subject => "subject",
            TextField::From => "from_addr",
            TextField::To => "to_addr",
            TextField::Cc => "cc_addr",
            TextField::Bcc => "bcc",
            TextField::Headers => "headers",
            TextField::Body => "body",
        }
    }
}

/// "Some field of `fields` contains `needle`" (`needle` lower-cased the way
/// [`MessageText`] is). Several terms are AND-ed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextTerm {
    pub fields: Vec<TextField>,
    pub needle: String,
}

/// Trigrams looked up per term. A longer needle contributes this many,
/// spread over its length; the exact check after the lookup sees the rest.
pub const MAX_TRIGRAMS_PER_TERM: usize = 16;
/// Terms of one query; more are ignored (they still filter exactly).
pub const MAX_TERMS: usize = 16;

/// The FTS5 query for `terms`, or `None` when no term can narrow (every
/// needle shorter than three characters, or without a trigram the index
/// keeps).
///
/// Each trigram becomes its word ([`trigram_words`]) with a column filter
/// (`{headers body} : "abc"`), and the words are AND-ed: that is all a
/// prefilter needs (the table has `detail=column`, no positions).
pub fn match_expression(terms: &[TextTerm]) -> Option<String> {
    let mut parts = Vec::new();
    for t in terms.iter().filter(|t| !t.fields.is_empty()).take(MAX_TERMS) {
        let chars: Vec<char> = t.needle.chars().collect();
        // The trigrams the index has: none with an unsearched character.
        let grams: Vec<[char; 3]> =
            chars.windows(3).filter(|g| !g.iter().any(|&c| unsearched(c))).map(|g| [g[0], g[1], g[2]]).collect();
        let n = grams.len();
        let mut words: Vec<String> = Vec::new();
        let picks = n.min(MAX_TRIGRAMS_PER_TERM);
        for k in 0..picks {
            // Evenly spread, first and last included.
            let i = if picks == 1 { 0 } else { k * (n - 1) / (picks - 1) };
            let mut w = String::new();
            push_word(grams[i], &mut w);
            if !words.contains(&w) {
                words.push(w);
            }
        }
        let cols: Vec<&str> = t.fields.iter().map(|f| f.column()).collect();
        for w in words {
            // A word never holds a `"`.
            parts.push(format!("{{{}}} : \"{w}\"", cols.join(" ")));
        }
    }
    if parts.is_empty() {
        None
    } else {
        Some(parts.join(" AND "))
    }
}

/// The document for a message of `blob` with trace `prefix`: an existing one
/// when the same bytes are already indexed (copies, repeated appends), else
/// a new one. Runs in the caller's (write) transaction.
/// (The stored SUBJECT/FROM/TO/CC strings must agree too: they are what
/// those keys are checked against.)
pub(crate) fn document_for(conn: &Connection, m: &NewMessage, text: &TextDoc) -> Result<i64> {
    let mut find = conn.prepare_cached(
        "SELECT text_id FROM messages WHERE blob = ?1 AND prefix = ?2 AND subject = ?3 AND from_addr = ?4
             AND to_addr = ?5 AND cc_addr = ?6 AND text_id IS NOT NULL LIMIT 1",
    )?;
    let key = params![m.blob.0, m.prefix, m.meta.subject, m.meta.from, m.meta.to, m.meta.cc];
    if let Some(id) = find.query_row(key, |r| r.get::<_, i64>(0)).optional()? {
        return Ok(id);
    }
    insert_document(conn, text)
}

/// A new pending document; its id is the rowid it gets in `message_text`
/// (AUTOINCREMENT: never one that was used before).
fn insert_document(conn: &Connection, text: &TextDoc) -> Result<i64> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO message_text_pending (subject, from_addr, to_addr, cc_addr, bcc, headers, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    stmt.execute(params![text.subject, text.from, text.to, text.cc, text.bcc, text.headers, text.body])?;
    Ok(conn.last_insert_rowid())
}

/// Pending documents folded into `message_text` at once when this many wait.
pub const FOLD_AT: usize = 16;
/// An idle writer folds the pending documents after this long.
pub const FOLD_IDLE: Duration = Duration::from_millis(500);

/// How many documents wait in `message_text_pending`.
pub(crate) fn pending(conn: &Connection) -> Result<usize> {
    let mut stmt = conn.prepare_cached("SELECT count(*) FROM message_text_pending")?;
    Ok(stmt.query_row([], |r| r.get::<_, i64>(0))? as usize)
}

/// Moves every pending document into the FTS5 table, in the caller's
/// transaction.
pub(crate) fn fold_pending(conn: &Connection) -> Result<()> {
    conn.execute_batch(
        "INSERT INTO message_text (rowid, subject, from_addr, to_addr, cc_addr, bcc, headers, body)
             SELECT id, subject, from_addr, to_addr, cc_addr, bcc, headers, body FROM message_text_pending ORDER BY id;
         DELETE FROM message_text_pending;",
    )?;
    Ok(())
}

/// Messages stored without a document (all with the same bytes and stored
/// search strings), which the rebuild indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unindexed {
    pub blob: BlobId,
    pub prefix: Vec<u8>,
    pub subject: String,
    pub from: String,
    pub to: String,
    pub cc: String,
}

impl Account {
    /// The UIDs of `mailbox` (ascending) that may contain every term, or
    /// `None` when the terms cannot narrow the search. Messages without a
    /// document or with a pending one are always included.
    pub async fn text_candidates(&self, mailbox: MailboxId, terms: Vec<TextTerm>) -> Result<Option<Vec<u32>>> {
        let Some(expr) = match_expression(&terms) else { return Ok(None) };
        self.read(move |c| {
            // CROSS JOIN keeps the index lookup the outer loop.
            let mut stmt = c.prepare_cached(
                "SELECT m.uid FROM message_text CROSS JOIN messages m ON m.text_id = message_text.rowid
                 WHERE message_text MATCH ?1 AND m.mailbox_id = ?2",
            )?;
            let mut uids = stmt
                .query_map(params![expr, mailbox.0], |r| r.get::<_, i64>(0).map(|u| u as u32))?
                .collect::<rusqlite::Result<Vec<u32>>>()?;
            let mut stmt = c.prepare_cached(
                "SELECT uid FROM messages WHERE mailbox_id = ?1 AND text_id IS NULL
                 UNION ALL
                 SELECT m.uid FROM message_text_pending p CROSS JOIN messages m ON m.text_id = p.id
                 WHERE m.mailbox_id = ?1",
            )?;
            for uid in stmt.query_map([mailbox.0], |r| r.get::<_, i64>(0).map(|u| u as u32))? {
                uids.push(uid?);
            }
            uids.sort_unstable();
            uids.dedup();
            Ok(Some(uids))
        })
        .await
    }

    /// Folds the pending documents into the index now, instead of when the
    /// writer next does (see the module documentation).
    pub async fn fold_text_index(&self) -> Result<()> {
        self.write(|c, _| fold_pending(c)).await
    }

    /// How many messages of the account have no document in the index.
    pub async fn unindexed_count(&self) -> Result<u64> {
        self.read(|c| {
            Ok(c.query_row("SELECT count(*) FROM messages WHERE text_id IS NULL", [], |r| r.get::<_, i64>(0))? as u64)
        })
        .await
    }

    /// Empties the index: every message becomes unindexed (and so a
    /// candidate for every text search) until [`Account::index_text`] gives
    /// it a document again.
    pub async fn clear_text_index(&self) -> Result<()> {
        self.write(|c, _| {
            c.execute("UPDATE messages SET text_id = NULL WHERE text_id IS NOT NULL", [])?;
            c.execute("INSERT INTO message_text (message_text) VALUES ('delete-all')", [])?;
            c.execute("DELETE FROM message_text_pending", [])?;
            Ok(())
        })
        .await
    }

    /// The unindexed messages, grouped by bytes and stored search strings.
    pub async fn unindexed(&self) -> Result<Vec<Unindexed>> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT DISTINCT blob, prefix, subject, from_addr, to_addr, cc_addr FROM messages WHERE text_id IS NULL",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(Unindexed {
                    blob: BlobId(r.get(0)?),
                    prefix: r.get(1)?,
                    subject: r.get(2)?,
                    from: r.get(3)?,
                    to: r.get(4)?,
                    cc: r.get(5)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    /// Gives every message of these groups that is still unindexed its
    /// document, in one transaction. Returns how many messages were indexed.
    pub async fn index_text(&self, docs: Vec<(Unindexed, TextDoc)>) -> Result<usize> {
        self.write(move |c, _| {
            let mut n = 0;
            for (u, text) in &docs {
                let id = insert_document(c, text)?;
                let mut stmt = c.prepare_cached(
                    "UPDATE messages SET text_id = ?1 WHERE blob = ?2 AND prefix = ?3 AND subject = ?4
                         AND from_addr = ?5 AND to_addr = ?6 AND cc_addr = ?7 AND text_id IS NULL",
                )?;
                let k = stmt.execute(params![id, u.blob.0, u.prefix, u.subject, u.from, u.to, u.cc])?;
                if k == 0 {
                    // Expunged meanwhile: the document has no message.
                    c.execute("DELETE FROM message_text_pending WHERE id = ?1", [id])?;
                }
                n += k;
            }
            Ok(n)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(fields: &[TextField], needle: &str) -> TextTerm {
        TextTerm { fields: fields.to_vec(), needle: needle.into() }
    }

    #[test]
    fn expressions() {
        assert_eq!(match_expression(&[term(&[TextField::Body], "ab")]), None);
        assert_eq!(match_expression(&[]), None);
        assert_eq!(match_expression(&[term(&[TextField::Subject], "abc")]).unwrap(), "{subject} : \"abc\"");
        assert_eq!(
            match_expression(&[term(&[TextField::Headers, TextField::Body], "a\"bcd")]).unwrap(),
            "{headers body} : \"a_22b\" AND {headers body} : \"_22bc\" AND {headers body} : \"bcd\""
        );
        // Repeated trigrams once; a long needle is capped.
        assert_eq!(match_expression(&[term(&[TextField::Body], "aaaaa")]).unwrap(), "{body} : \"aaa\"");
        // 52 distinct characters, so no two picked trigrams are equal.
        let long: String = ('a'..='z').chain('A'..='Z').collect();
        let e = match_expression(&[term(&[TextField::Body], &long)]).unwrap();
        assert_eq!(e.matches(" AND ").count(), MAX_TRIGRAMS_PER_TERM - 1);
        assert!(e.starts_with("{body} : \"abc\"") && e.ends_with("{body} : \"_58_59_5a\""), "{e}");
        // Non-ASCII trigrams are characters, not bytes.
        assert_eq!(match_expression(&[term(&[TextField::From], "jör")]).unwrap(), "{from_addr} : \"jör\"");
        // Trigrams with an unsearched character are not asked for.
        assert_eq!(match_expression(&[term(&[TextField::Body], "ab\u{1}cde")]).unwrap(), "{body} : \"cde\"");
        assert_eq!(match_expression(&[term(&[TextField::Body], "a\u{fffd}bc")]), None);
    }

    #[test]
    fn words_are_the_distinct_trigrams() {
        assert_eq!(trigram_words(""), "");
        assert_eq!(trigram_words("ab"), "");
        assert_eq!(trigram_words("abcabc"), "abc bca cab");
        assert_eq!(trigram_words("o w"), "o_20w");
        assert_eq!(trigram_words("a\nb"), "a_0ab");
        assert_eq!(trigram_words("für"), "für");
        // Nothing spans an unsearched character, and text after one is indexed.
        assert_eq!(trigram_words("ab\0cde\u{1}xy\u{fffd}zzz\u{85}"), "cde zzz");
        assert_eq!(trigram_words("a\tb\r\nc"), "_09b_0d _0d_0ac a_09b b_0d_0a");
        // Every word is one token for the `ascii` tokenizer: letters and
        // digits, `_`, non-ASCII.
        let all: String = (1u8..128).map(char::from).chain("äß€😀".chars()).collect();
        for w in trigram_words(&all).split(' ') {
            assert!(
                w.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || !c.is_ascii()),
                "{w}"
            );
        }
    }

    /// The query's words for a needle are among the document's words for
    /// any text that contains it.
    #[test]
    fn query_words_are_document_words() {
        let text = "Zeppelin über \"München\", 10:30\nbcc: x@y.example\u{1}\u{fffd}ab\tc";
        let doc: Vec<String> = trigram_words(text).split(' ').map(str::to_string).collect();
        let chars: Vec<char> = text.chars().collect();
        for i in 0..chars.len() {
            for j in i + 3..=chars.len() {
                let needle: String = chars[i..j].iter().collect();
                let Some(e) = match_expression(&[term(&[TextField::Body], &needle)]) else {
                    assert!(needle.chars().collect::<Vec<_>>().windows(3).all(|g| g.iter().any(|&c| unsearched(c))));
                    continue;
                };
                for part in e.split(" AND ") {
                    let w = part.strip_prefix("{body} : \"").and_then(|p| p.strip_suffix('"')).unwrap();
                    assert!(doc.iter().any(|d| d == w), "{needle:?}: {w} not in the document");
                }
            }
        }
    }
}
