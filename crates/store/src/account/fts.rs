//! The full-text index (issue #7, migration `account_0007_fts.sql`).
//!
//! SEARCH's string keys (RFC 9051 §6.4.4: BODY, TEXT, SUBJECT, FROM, TO,
//! CC, BCC, HEADER) are case-insensitive *substring* matches on decoded
//! text. The IMAP layer turns each message into a [`MessageText`] (the same
//! decoded, lower-cased strings its matcher compares against) when the
//! message is stored; this module keeps one FTS5 document per distinct text
//! in the `message_text` table, written in the same transaction as the
//! message row.
//!
//! The table uses SQLite's trigram tokenizer: every run of three characters
//! is a term, so a needle of three or more characters can be looked up as
//! "all of its trigrams occur in this column". That is necessary for the
//! needle to be a substring, not sufficient, so the index only *narrows*:
//! [`Account::text_candidates`] returns the messages that may match, and
//! SEARCH confirms each with the exact matcher. Needles shorter than three
//! characters, and messages without a document (`text_id IS NULL`: stored
//! before the index existed, or not decodable), are never excluded.

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
/// needle shorter than three characters).
///
/// Each trigram becomes its own quoted string with a column filter
/// (`{headers body} : "abc"`): with `detail=column` FTS5 cannot match
/// multi-token phrases, and the AND of the trigrams is all a prefilter needs.
pub fn match_expression(terms: &[TextTerm]) -> Option<String> {
    let mut parts = Vec::new();
    for t in terms.iter().filter(|t| !t.fields.is_empty()).take(MAX_TERMS) {
        let chars: Vec<char> = t.needle.chars().collect();
        // FTS5 strings cannot hold NUL (IMAP strings cannot either).
        if chars.len() < 3 || t.needle.contains('\0') {
            continue;
        }
        let n = chars.len() - 2;
        let mut grams: Vec<String> = Vec::new();
        let picks = n.min(MAX_TRIGRAMS_PER_TERM);
        for k in 0..picks {
            // Evenly spread, first and last included.
            let i = if picks == 1 { 0 } else { k * (n - 1) / (picks - 1) };
            let g: String = chars[i..i + 3].iter().collect();
            if !grams.contains(&g) {
                grams.push(g);
            }
        }
        let cols: Vec<&str> = t.fields.iter().map(|f| f.column()).collect();
        for g in grams {
            parts.push(format!("{{{}}} : \"{}\"", cols.join(" "), g.replace('"', "\"\"")));
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
pub(crate) fn document_for(conn: &Connection, m: &NewMessage, text: &MessageText) -> Result<i64> {
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

fn insert_document(conn: &Connection, text: &MessageText) -> Result<i64> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO message_text (subject, from_addr, to_addr, cc_addr, bcc, headers, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    stmt.execute(params![text.subject, text.from, text.to, text.cc, text.bcc, text.headers, text.body])?;
    Ok(conn.last_insert_rowid())
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
    /// document are always included.
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
            let mut stmt = c.prepare_cached("SELECT uid FROM messages WHERE mailbox_id = ?1 AND text_id IS NULL")?;
            for uid in stmt.query_map([mailbox.0], |r| r.get::<_, i64>(0).map(|u| u as u32))? {
                uids.push(uid?);
            }
            uids.sort_unstable();
            uids.dedup();
            Ok(Some(uids))
        })
        .await
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
    pub async fn index_text(&self, docs: Vec<(Unindexed, MessageText)>) -> Result<usize> {
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
                    c.execute("DELETE FROM message_text WHERE rowid = ?1", [id])?;
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
            "{headers body} : \"a\"\"b\" AND {headers body} : \"\"\"bc\" AND {headers body} : \"bcd\""
        );
        // Repeated trigrams once; a long needle is capped.
        assert_eq!(match_expression(&[term(&[TextField::Body], "aaaaa")]).unwrap(), "{body} : \"aaa\"");
        // 52 distinct characters, so no two picked trigrams are equal.
        let long: String = ('a'..='z').chain('A'..='Z').collect();
        let e = match_expression(&[term(&[TextField::Body], &long)]).unwrap();
        assert_eq!(e.matches(" AND ").count(), MAX_TRIGRAMS_PER_TERM - 1);
        assert!(e.starts_with("{body} : \"abc\"") && e.ends_with("{body} : \"XYZ\""));
        // Non-ASCII trigrams are characters, not bytes.
        assert_eq!(match_expression(&[term(&[TextField::From], "jör")]).unwrap(), "{from_addr} : \"jör\"");
    }
}
