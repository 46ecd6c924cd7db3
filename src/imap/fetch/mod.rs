//! Message content for FETCH (RFC 9051 §6.4.5, §7.5.2; RFC 3516 BINARY).
//!
//! Structure comes from `mail-parser` (part tree and byte offsets of every
//! part's header and body); everything sent to a client is cut from the raw
//! bytes at those offsets, so `BODY[…]` is byte-exact. The parse result is
//! turned into a small tree of [`Node`]s that the section resolver, the
//! BODYSTRUCTURE encoder, BINARY and SEARCH share.
//!
//! Nothing here panics on any input: parsing runs under `catch_unwind` and
//! falls back to "the whole message is a text/plain body".

mod binary;
mod bodystructure;
mod envelope;
mod preview;
mod section;

use std::ops::Range;
use std::panic::{catch_unwind, AssertUnwindSafe};

use mail_parser::{HeaderName, HeaderValue, Message, MessageParser, MessagePart, PartType};

pub use binary::{binary, binary_size, BinaryError};
pub(crate) use envelope::display_addresses;
pub use preview::preview;
pub use section::{partial, section};

/// Deeper MIME nesting than this is served as an opaque leaf (keeps every
/// recursive walk here bounded).
const MAX_DEPTH: usize = 64;

/// Computes everything FETCH and SEARCH need from a message, once, at
/// APPEND/delivery time: ENVELOPE, BODYSTRUCTURE, BODY, the decoded sort keys
/// and the PREVIEW text.
pub fn compute_meta(raw: &[u8]) -> store::MessageMeta {
    match catch_unwind(AssertUnwindSafe(|| compute_meta_inner(raw))) {
        Ok(meta) => meta,
        Err(_) => {
            let root = Node::fallback(raw);
            store::MessageMeta {
                envelope: envelope::encode(b""),
                bodystructure: bodystructure::encode(raw, &root, true),
                body: bodystructure::encode(raw, &root, false),
                preview: Some(String::new()),
                ..Default::default()
            }
        }
    }
}

fn compute_meta_inner(raw: &[u8]) -> store::MessageMeta {
    let msg = parse(raw);
    let root = build(raw, msg.as_ref());
    let header = &raw[root.header.clone()];
    let fields = split_headers(header);
    let first = |name: &str| fields.iter().find(|f| f.name.eq_ignore_ascii_case(name.as_bytes())).map(|f| f.value);
    let subject = first("subject").map(decode_text).unwrap_or_default();
    let from = first("from").map(envelope::display_addresses).unwrap_or_default();
    let to = first("to").map(envelope::display_addresses).unwrap_or_default();
    let cc = first("cc").map(envelope::display_addresses).unwrap_or_default();
    let sent_date = first("date").and_then(parse_date).map(|d| d.to_timestamp());
    let message_id = first("message-id")
        .map(|v| {
            let v = String::from_utf8_lossy(&unfold(v)).into_owned();
            let v = v.trim();
            let v = v.strip_prefix('<').unwrap_or(v);
            let v = v.strip_suffix('>').unwrap_or(v);
            v.trim().to_string()
        })
        .unwrap_or_default();
    let references = thread_references(first("in-reply-to"), first("references"));
    let text = |v: &[u8]| String::from_utf8_lossy(&unfold(v)).into_owned();
    let from_addrs = first("from").map(envelope::parse_addresses).unwrap_or_default();
    let to_addrs = first("to").map(envelope::parse_addresses).unwrap_or_default();
    let cc_addrs = first("cc").map(envelope::parse_addresses).unwrap_or_default();
    let references_text = first("references").map(text);
    let in_reply_to = first("in-reply-to").map(text);
    let mut meta = store::MessageMeta {
        from_mailbox: envelope::first_mailbox(&from_addrs),
        to_mailbox: envelope::first_mailbox(&to_addrs),
        cc_mailbox: envelope::first_mailbox(&cc_addrs),
        display_from: envelope::first_display(&from_addrs),
        display_to: envelope::first_display(&to_addrs),
        thread_refs: crate::imap::sort::thread_refs(references_text.as_deref(), in_reply_to.as_deref()),
        envelope: envelope::encode(header),
        bodystructure: bodystructure::encode(raw, &root, true),
        body: bodystructure::encode(raw, &root, false),
        subject,
        from,
        to,
        cc,
        sent_date,
        message_id,
        references,
        preview: Some(preview::of_message(raw, msg.as_ref())),
        text: None,
        sort: None,
    };
    meta.text = crate::imap::search::message_text_of(raw, Some(&root), &meta).map(|t| store::TextDoc::new(&t));
    meta.sort = Some(crate::imap::sort::sort_keys(&meta));
    meta
}

/// The Message-IDs a message replies to, for THREADID (RFC 8474 §5.2):
/// In-Reply-To first, then References from last (the direct parent) to
/// first (the thread's root), without angle brackets, deduplicated, at most
/// [`store::account::MAX_THREAD_REFS`].
pub(crate) fn thread_references(in_reply_to: Option<&[u8]>, references: Option<&[u8]>) -> Vec<String> {
    fn msg_ids(v: &[u8]) -> Vec<String> {
        let v = String::from_utf8_lossy(&unfold(v)).into_owned();
        let mut out = Vec::new();
        let mut rest = v.as_str();
        while let Some(start) = rest.find('<') {
            let after = &rest[start + 1..];
            let Some(end) = after.find('>') else { break };
            let id = after[..end].trim();
            if !id.is_empty() && !id.contains(char::is_whitespace) {
                out.push(id.to_string());
            }
            rest = &after[end + 1..];
        }
        out
    }
    let mut out: Vec<String> = Vec::new();
    let irt = in_reply_to.map(msg_ids).unwrap_or_default();
    let refs = references.map(msg_ids).unwrap_or_default();
    for id in irt.into_iter().chain(refs.into_iter().rev()) {
        if out.len() >= store::account::MAX_THREAD_REFS {
            break;
        }
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Parsing into a part tree
// ---------------------------------------------------------------------------

/// Parses with mail-parser; `None` if it finds no header or panics.
pub(crate) fn parse(raw: &[u8]) -> Option<Message<'_>> {
    catch_unwind(AssertUnwindSafe(|| MessageParser::default().parse(raw)))
        .ok()
        .flatten()
        .filter(|m| !m.parts.is_empty())
}

/// One MIME entity: its header block and body as ranges of the raw message.
pub(crate) struct Node<'a> {
    /// The header block including the blank line that ends it.
    pub header: Range<usize>,
    /// The (encoded) body.
    pub body: Range<usize>,
    /// Lower case media type and subtype (defaults applied).
    pub ctype: String,
    pub subtype: String,
    pub kind: Kind<'a>,
    /// The parsed part, when mail-parser produced one (decoded text, params).
    pub part: Option<&'a MessagePart<'a>>,
}

pub(crate) enum Kind<'a> {
    Leaf,
    Multipart(Vec<Node<'a>>),
    /// message/rfc822 (or message/global): the encapsulated message's root.
    Message(Box<Node<'a>>),
}

impl<'a> Node<'a> {
    /// The whole input as a text/plain body with no header.
    pub fn fallback(raw: &[u8]) -> Node<'a> {
        Node {
            header: 0..0,
            body: 0..raw.len(),
            ctype: "text".into(),
            subtype: "plain".into(),
            kind: Kind::Leaf,
            part: None,
        }
    }

    /// The raw header fields of this entity.
    pub fn fields<'r>(&self, raw: &'r [u8]) -> Vec<Field<'r>> {
        split_headers(&raw[self.header.clone()])
    }
}

/// Builds the tree for a whole message.
pub(crate) fn build<'a>(raw: &'a [u8], msg: Option<&'a Message<'a>>) -> Node<'a> {
    let h = top_header_len(raw);
    match msg {
        Some(m) if h > 0 => from_part(raw, m, 0, 0, false),
        _ => Node { header: 0..h, body: h..raw.len(), ..Node::fallback(raw) },
    }
}

/// Length of the top-level header block, or 0 when the message does not
/// start with a header (then all of it is body).
pub(crate) fn top_header_len(raw: &[u8]) -> usize {
    let h = header_len(raw);
    if raw.starts_with(b"\r\n") || raw.starts_with(b"\n") || !split_headers(&raw[..h]).is_empty() {
        h
    } else {
        0
    }
}

fn clamp(raw: &[u8], start: u32, end: u32) -> Range<usize> {
    let s = (start as usize).min(raw.len());
    let e = (end as usize).min(raw.len()).max(s);
    s..e
}

fn from_part<'a>(raw: &'a [u8], msg: &'a Message<'a>, idx: usize, depth: usize, in_digest: bool) -> Node<'a> {
    let Some(p) = msg.parts.get(idx) else {
        return Node { header: 0..0, body: 0..0, ..Node::fallback(b"") };
    };
    let header = clamp(raw, p.offset_header, p.offset_body);
    let body = clamp(raw, p.offset_body, p.offset_end);
    let ct = p.headers.iter().find(|h| h.name == HeaderName::ContentType).and_then(|h| h.value.as_content_type());
    let (mut ctype, mut subtype) = match ct {
        Some(ct) => (ct.ctype().to_ascii_lowercase(), ct.subtype().map(|s| s.to_ascii_lowercase()).unwrap_or_default()),
        None if in_digest => ("message".to_string(), "rfc822".to_string()),
        None => ("text".to_string(), "plain".to_string()),
    };
    if ctype.is_empty() {
        ctype = "text".into();
        subtype = "plain".into();
    }
    let is_message = ctype == "message" && (subtype == "rfc822" || subtype == "global");
    let identity_cte = p.encoding == mail_parser::Encoding::None;
    let kind = if depth >= MAX_DEPTH {
        Kind::Leaf
    } else {
        match &p.body {
            PartType::Multipart(ids) if ctype == "multipart" => {
                let digest = subtype == "digest";
                Kind::Multipart(
                    ids.iter()
                        .filter(|&&id| id as usize > idx)
                        .map(|&id| from_part(raw, msg, id as usize, depth + 1, digest))
                        .collect(),
                )
            }
            PartType::Message(inner)
                if identity_cte && inner.raw_message.len() == raw.len() && !inner.parts.is_empty() =>
            {
                Kind::Message(Box::new(from_part(raw, inner, 0, depth + 1, false)))
            }
            _ if is_message && identity_cte => {
                // The encapsulated message could not be parsed: split it by hand.
                let b = &raw[body.clone()];
                let hlen = header_len(b);
                let inner = Node {
                    header: body.start..body.start + hlen,
                    body: body.start + hlen..body.end,
                    ctype: "text".into(),
                    subtype: "plain".into(),
                    kind: Kind::Leaf,
                    part: None,
                };
                Kind::Message(Box::new(inner))
            }
            _ => Kind::Leaf,
        }
    };
    if matches!(kind, Kind::Leaf) {
        if ctype == "multipart" {
            // A multipart without a usable boundary is served as plain text.
            ctype = "text".into();
            subtype = "plain".into();
        } else if is_message || (ctype == "message" && subtype.is_empty()) {
            // An encoded (or too deeply nested) message is opaque data.
            ctype = "application".into();
            subtype = "octet-stream".into();
        }
    }
    if subtype.is_empty() {
        subtype = match ctype.as_str() {
            "text" => "plain".into(),
            "message" => "rfc822".into(),
            _ => "octet-stream".into(),
        };
    }
    Node { header, body, ctype, subtype, kind, part: Some(p) }
}

// ---------------------------------------------------------------------------
// Raw header fields
// ---------------------------------------------------------------------------

/// A header field as it appears in the raw message.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field<'r> {
    /// The field name (trailing whitespace removed).
    pub name: &'r [u8],
    /// The raw value after the colon, folds included, final line end excluded.
    pub value: &'r [u8],
    /// The whole field: name, value, continuation lines and final line end.
    pub line: &'r [u8],
}

/// Length of the header block at the start of `b`, including the blank line
/// that ends it (the whole of `b` when there is none).
pub(crate) fn header_len(b: &[u8]) -> usize {
    let mut pos = 0;
    while pos < b.len() {
        let end = b[pos..].iter().position(|&c| c == b'\n').map_or(b.len(), |i| pos + i + 1);
        let line = &b[pos..end];
        if line == b"\n" || line == b"\r\n" {
            return end;
        }
        pos = end;
    }
    b.len()
}

/// Splits a header block into fields. Lines that are neither a field nor a
/// continuation are skipped; a blank line ends the block.
pub(crate) fn split_headers(block: &[u8]) -> Vec<Field<'_>> {
    let mut out: Vec<Field<'_>> = Vec::new();
    // (start of field, end of name, start of value)
    let mut cur: Option<(usize, usize, usize)> = None;
    let mut pos = 0;
    fn finish<'b>(block: &'b [u8], out: &mut Vec<Field<'b>>, cur: Option<(usize, usize, usize)>, end: usize) {
        if let Some((start, name_end, vstart)) = cur {
            let line = &block[start..end];
            let mut vend = end;
            if vend > vstart && block[vend - 1] == b'\n' {
                vend -= 1;
                if vend > vstart && block[vend - 1] == b'\r' {
                    vend -= 1;
                }
            }
            let mut name = &block[start..name_end];
            while let [rest @ .., b' ' | b'\t'] = name {
                name = rest;
            }
            out.push(Field { name, value: &block[vstart..vend], line });
        }
    }
    while pos < block.len() {
        let end = block[pos..].iter().position(|&c| c == b'\n').map_or(block.len(), |i| pos + i + 1);
        let line = &block[pos..end];
        if line == b"\n" || line == b"\r\n" {
            break;
        }
        if line[0] == b' ' || line[0] == b'\t' {
            if cur.is_none() {
                // A continuation with nothing to continue: skip it.
            }
        } else {
            finish(block, &mut out, cur.take(), pos);
            if let Some(colon) = line.iter().position(|&c| c == b':') {
                if colon > 0 {
                    cur = Some((pos, pos + colon, pos + colon + 1));
                }
            }
        }
        pos = end;
    }
    finish(block, &mut out, cur, pos);
    out
}

/// Removes the line breaks of folded header text (RFC 5322 §2.2.3).
pub(crate) fn unfold(v: &[u8]) -> Vec<u8> {
    v.iter().copied().filter(|&c| c != b'\r' && c != b'\n').collect()
}

/// Unfolded, whitespace-trimmed raw value.
pub(crate) fn raw_value(v: &[u8]) -> Vec<u8> {
    let u = unfold(v);
    let s = u.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(u.len());
    let e = u.iter().rposition(|c| !c.is_ascii_whitespace()).map_or(s, |i| i + 1);
    u[s..e].to_vec()
}

/// Decodes an unstructured header value (RFC 2047 encoded words, unfolding).
pub(crate) fn decode_text(v: &[u8]) -> String {
    let mut buf = v.to_vec();
    buf.extend_from_slice(b"\r\n");
    let decoded =
        catch_unwind(AssertUnwindSafe(|| match mail_parser::parsers::MessageStream::new(&buf).parse_unstructured() {
            HeaderValue::Text(t) => t.into_owned(),
            HeaderValue::TextList(l) => l.join(" "),
            _ => String::new(),
        }));
    match decoded {
        Ok(s) => s.trim().to_string(),
        Err(_) => String::from_utf8_lossy(&raw_value(v)).into_owned(),
    }
}

/// Parses a `Date:` value.
pub(crate) fn parse_date(v: &[u8]) -> Option<mail_parser::DateTime> {
    let mut buf = v.to_vec();
    buf.extend_from_slice(b"\r\n");
    catch_unwind(AssertUnwindSafe(|| match mail_parser::parsers::MessageStream::new(&buf).parse_date() {
        HeaderValue::DateTime(d) if d.is_valid() => Some(d),
        _ => None,
    }))
    .ok()
    .flatten()
}

#[cfg(test)]
pub(crate) mod fixtures {
    //! Test messages shared by the unit tests of this module.

    pub const SIMPLE: &[u8] = b"Date: Mon, 7 Feb 1994 21:52:25 -0800\r\n\
From: Fred Foobar <foobar@Blurdybloop.COM>\r\n\
Subject: afternoon meeting\r\n\
To: mooch@owatagu.siam.edu\r\n\
Message-Id: <B27397-0100000@Blurdybloop.COM>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=us-ascii\r\n\
Content-Transfer-Encoding: 7bit\r\n\
\r\n\
Hello Joe, meet at 3:30?\r\n\
ok\r\n";

    pub const ALTERNATIVE: &[u8] = b"From: a@b.c\r\n\
Subject: alt\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/alternative; boundary=\"b1\"\r\n\
\r\n\
--b1\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\
\r\n\
Gr=C3=BC=C3=9Fe\r\n\
--b1\r\n\
Content-Type: text/html; charset=utf-8\r\n\
\r\n\
<p>Hi there!</p>\r\n\
--b1--\r\n";

    pub const MIXED: &[u8] = b"From: a@b.c\r\n\
Subject: mixed\r\n\
Content-Type: multipart/mixed; boundary=outer\r\n\
Content-Language: de, en\r\n\
Content-Location: http://x/\r\n\
\r\n\
This is a MIME preamble.\r\n\
--outer\r\n\
Content-Type: text/plain; charset=us-ascii\r\n\
Content-Language: en\r\n\
\r\n\
Hello\r\n\
there\r\n\
--outer\r\n\
Content-Type: application/pdf; name=\"doc.pdf\"\r\n\
Content-Transfer-Encoding: base64\r\n\
Content-ID: <att1@x>\r\n\
Content-Description: A document\r\n\
Content-Disposition: attachment; filename=\"doc.pdf\"\r\n\
\r\n\
JVBERi0xLjQK\r\n\
\r\n\
--outer\r\n\
Content-Type: message/rfc822\r\n\
\r\n\
Date: Wed, 2 Mar 2022 10:00:00 +0000\r\n\
From: x@y.org\r\n\
Subject: inner\r\n\
\r\n\
inner body\r\n\
\r\n\
--outer--\r\n";

    pub const NESTED: &[u8] = b"From: A <a@b.c>\r\n\
Subject: hi\r\n there\r\n\
Content-Type: multipart/mixed; boundary=\"XX\"\r\n\
\r\n\
preamble\r\n\
--XX\r\n\
Content-Type: text/plain\r\n\
\r\n\
hello\r\n\
world\r\n\
--XX\r\n\
Content-Type: message/rfc822\r\n\
\r\n\
From: x@y\r\n\
Subject: inner\r\n\
Content-Type: multipart/alternative; boundary=YY\r\n\
\r\n\
--YY\r\n\
\r\n\
inner text\r\n\
--YY\r\n\
Content-Type: text/html\r\n\
\r\n\
<b>x</b>\r\n\
--YY--\r\n\
\r\n\
--XX\r\n\
Content-Type: application/octet-stream\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
aGVsbG8=\r\n\
--XX--\r\n\
epilogue\r\n";

    pub const GROUPS: &[u8] = b"Date: Tue, 1 Jul 2003 10:52:37 +0200\r\n\
Subject: =?ISO-8859-1?Q?Caf=E9?= news\r\n\
From: =?utf-8?q?J=C3=B6rg_M=C3=BCller?= <joerg@example.de>\r\n\
Sender: owner@list.example.org\r\n\
Reply-To: \"Fred \\\"the\\\" Foo\" <fred@x.org>,\r\n Two  Words <two@y.org>\r\n\
To: friends: a@b.c, Dee <d@e.f>;, undisclosed-recipients:;\r\n\
Cc: cc@example.com\r\n\
Bcc: bcc@example.com (Comment Name)\r\n\
In-Reply-To: <parent@x>\r\n\
Message-ID: <id@x>\r\n\
\r\n\
body\r\n";
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;

    #[test]
    fn meta_sort_keys_are_decoded() {
        let m = compute_meta(GROUPS);
        assert_eq!(m.subject, "Café news");
        assert_eq!(m.from, "Jörg Müller <joerg@example.de>");
        assert_eq!(m.to, "friends:, a@b.c, Dee <d@e.f>, undisclosed-recipients:");
        assert_eq!(m.cc, "cc@example.com");
        assert_eq!(m.message_id, "id@x");
        assert_eq!(m.sent_date, Some(1057049557));
        let m = compute_meta(SIMPLE);
        assert_eq!(m.sent_date, Some(760686745));
        assert_eq!(m.from, "Fred Foobar <foobar@Blurdybloop.COM>");
    }

    #[test]
    fn thread_references_nearest_parent_first() {
        let m = compute_meta(
            b"Message-ID: <c@x>\r\nIn-Reply-To: <b@x>\r\nReferences: <a@x>\r\n <b@x>\r\nSubject: re\r\n\r\nbody\r\n",
        );
        assert_eq!(m.references, vec!["b@x".to_string(), "a@x".to_string()]);
        // In-Reply-To with a comment-ish phrase; References only.
        let r = thread_references(Some(b"Your message of today <p@q> (sent)"), Some(b"<r@s><t@u> <p@q>"));
        assert_eq!(r, vec!["p@q", "t@u", "r@s"]);
        assert!(thread_references(None, Some(b"garbage < > <unterminated")).is_empty());
        let many: String = (0..500).map(|i| format!("<{i}@x> ")).collect();
        assert_eq!(thread_references(None, Some(many.as_bytes())).len(), store::account::MAX_THREAD_REFS);
    }

    #[test]
    fn empty_and_garbage() {
        for raw in [&b""[..], b"\r\n", b"no header here", b"\x00\xff\xfe", b":\r\n\r\n", b"a:\r\n"] {
            let m = compute_meta(raw);
            assert!(m.envelope.starts_with(b"(") && m.bodystructure.starts_with(b"("));
        }
        let m = compute_meta(b"no header here");
        assert_eq!(
            String::from_utf8(m.body).unwrap(),
            r#"("text" "plain" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 14 1)"#
        );
    }

    #[test]
    fn header_splitting() {
        let f = split_headers(b"A: 1\r\n 2\r\nbogus line\r\n\tcont\r\nB : 3\n\nC: not header");
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].name, b"A");
        assert_eq!(f[0].value, b" 1\r\n 2");
        assert_eq!(f[1].name, b"B");
        assert_eq!(f[1].value, b" 3");
        assert_eq!(header_len(b"A: 1\r\n\r\nbody"), 8);
        assert_eq!(header_len(b"\r\nbody"), 2);
        assert_eq!(header_len(b"A: 1"), 4);
    }

    /// Deterministic xorshift PRNG: no new crates.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    fn mutate(rng: &mut Rng, base: &[u8]) -> Vec<u8> {
        let mut v = base.to_vec();
        const TOKENS: &[&[u8]] = &[
            b"\r\n",
            b"\n",
            b"--",
            b"--outer",
            b"--XX--",
            b"=?",
            b"?=",
            b"=?utf-8?b?",
            b":",
            b";",
            b"\"",
            b"(",
            b")",
            b"<",
            b">",
            b"@",
            b"\x00",
            b"\xff",
            b"Content-Type: multipart/mixed; boundary=outer\r\n",
            b"Content-Type: message/rfc822\r\n\r\n",
            b"Content-Transfer-Encoding: base64\r\n",
            b"=\r\n",
            b"\r\n\r\n",
            b" ",
            b"\t",
            b"*",
            b"'",
            b"%",
        ];
        for _ in 0..1 + rng.below(8) {
            let pos = rng.below(v.len() + 1);
            match rng.below(5) {
                0 if !v.is_empty() => {
                    let end = (pos + rng.below(20)).min(v.len());
                    v.drain(pos.min(end)..end);
                }
                1 => {
                    let t = TOKENS[rng.below(TOKENS.len())];
                    v.splice(pos..pos, t.iter().copied());
                }
                2 if !v.is_empty() => {
                    let p = pos.min(v.len() - 1);
                    v[p] = rng.next() as u8;
                }
                3 => v.truncate(pos),
                _ => {
                    // duplicate a slice
                    let a = rng.below(v.len() + 1);
                    let b = (a + rng.below(64)).min(v.len());
                    let chunk = v[a..b].to_vec();
                    v.splice(pos..pos, chunk);
                }
            }
        }
        v
    }

    fn exercise(raw: &[u8]) {
        let m = compute_meta(raw);
        assert!(m.envelope.starts_with(b"("));
        assert!(m.bodystructure.starts_with(b"("));
        for part in [&[][..], &[1], &[2], &[3], &[1, 1], &[2, 1], &[3, 1], &[3, 2], &[2, 2, 1]] {
            for text in [
                None,
                Some(imap_proto::SectionText::Header),
                Some(imap_proto::SectionText::Text),
                Some(imap_proto::SectionText::Mime),
                Some(imap_proto::SectionText::HeaderFields { not: true, fields: vec!["subject".into()] }),
            ] {
                let _ = section(raw, &imap_proto::Section { part: part.to_vec(), text });
            }
            let _ = binary(raw, part);
        }
    }

    #[test]
    fn no_panic_on_mutated_messages() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let bases = [SIMPLE, ALTERNATIVE, MIXED, NESTED, GROUPS];
        for i in 0..400 {
            let raw = mutate(&mut rng, bases[i % bases.len()]);
            exercise(&raw);
        }
        for _ in 0..50 {
            let len = rng.below(300);
            let raw: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            exercise(&raw);
        }
    }

    #[test]
    fn no_panic_on_deep_nesting() {
        let mut raw = Vec::new();
        for i in 0..300 {
            raw.extend_from_slice(format!("Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n").as_bytes());
        }
        raw.extend_from_slice(b"\r\nleaf\r\n");
        exercise(&raw);
        let mut raw = Vec::new();
        for _ in 0..300 {
            raw.extend_from_slice(b"Subject: x\r\nContent-Type: message/rfc822\r\n\r\n");
        }
        raw.extend_from_slice(b"Subject: last\r\n\r\nleaf\r\n");
        exercise(&raw);
        let deep: Vec<u32> = vec![1; 200];
        let _ = section(&raw, &imap_proto::Section { part: deep, text: None });
    }
}
