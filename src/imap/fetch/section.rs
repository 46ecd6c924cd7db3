//! `BODY[section]` (RFC 9051 §6.4.5): byte-exact cuts of the raw message.

use imap_proto::{Section, SectionText};

use super::{build, parse, split_headers, top_header_len, Kind, Node};

/// The bytes of `BODY[section]`, or `None` when the section does not exist
/// (a part number past the end, HEADER/TEXT of a part that is not a
/// message/rfc822, MIME without a part number).
pub fn section(raw: &[u8], section: &Section) -> Option<Vec<u8>> {
    if section.part.is_empty() {
        // The top level needs no MIME parse.
        let hlen = top_header_len(raw);
        return match &section.text {
            None => Some(raw.to_vec()),
            Some(SectionText::Header) => Some(header_block(&raw[..hlen])),
            Some(SectionText::HeaderFields { not, fields }) => Some(header_fields(&raw[..hlen], fields, *not)),
            Some(SectionText::Text) => Some(raw[hlen..].to_vec()),
            Some(SectionText::Mime) => None,
        };
    }
    let msg = parse(raw);
    let root = build(raw, msg.as_ref());
    let node = resolve(&root, &section.part)?;
    match &section.text {
        None => Some(raw[node.body.clone()].to_vec()),
        Some(SectionText::Mime) => Some(header_block(&raw[node.header.clone()])),
        Some(text) => {
            let Kind::Message(inner) = &node.kind else {
                return None;
            };
            let header = &raw[inner.header.clone()];
            Some(match text {
                SectionText::Header => header_block(header),
                SectionText::HeaderFields { not, fields } => header_fields(header, fields, *not),
                // TEXT runs to the end of the encapsulated message, so a
                // multipart's epilogue is part of it (the parser's own body
                // range of the inner message stops at the close delimiter).
                _ => raw.get(inner.header.end..node.body.end).unwrap_or_default().to_vec(),
            })
        }
    }
}

/// `<offset.count>`: the part of `data` a partial fetch returns (empty when
/// `offset` is past the end).
pub fn partial(data: &[u8], offset: u32, count: u32) -> Vec<u8> {
    let start = (offset as usize).min(data.len());
    let end = start.saturating_add(count as usize).min(data.len());
    data[start..end].to_vec()
}

/// Finds the entity a part number names (RFC 9051 §6.4.5): within a
/// multipart the n-th child; within a message/rfc822 the parts of the
/// encapsulated message; part 1 of a non-multipart message is its body.
pub(crate) fn resolve<'t, 'a>(root: &'t Node<'a>, path: &[u32]) -> Option<&'t Node<'a>> {
    let (&first, rest) = path.split_first()?;
    let mut cur = in_message(root, first)?;
    for &n in rest {
        cur = match &cur.kind {
            Kind::Multipart(children) => child(children, n)?,
            Kind::Message(inner) => in_message(inner, n)?,
            Kind::Leaf => return None,
        };
    }
    Some(cur)
}

fn in_message<'t, 'a>(root: &'t Node<'a>, n: u32) -> Option<&'t Node<'a>> {
    match &root.kind {
        Kind::Multipart(children) => child(children, n),
        _ => (n == 1).then_some(root),
    }
}

fn child<'t, 'a>(children: &'t [Node<'a>], n: u32) -> Option<&'t Node<'a>> {
    children.get((n as usize).checked_sub(1)?)
}

/// A header block as sent: it always ends with the blank line.
fn header_block(block: &[u8]) -> Vec<u8> {
    let mut out = block.to_vec();
    if out.is_empty() || out.ends_with(b"\n\n") || out.ends_with(b"\n\r\n") || out == b"\r\n" || out == b"\n" {
        return out;
    }
    if !out.ends_with(b"\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// `HEADER.FIELDS (…)` / `HEADER.FIELDS.NOT (…)`: the matching fields with
/// their continuation lines, in message order, then the blank line.
fn header_fields(block: &[u8], names: &[String], not: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for f in split_headers(block) {
        let listed = names.iter().any(|n| n.as_bytes().eq_ignore_ascii_case(f.name));
        if listed != not {
            out.extend_from_slice(f.line);
            if !f.line.ends_with(b"\n") {
                out.extend_from_slice(b"\r\n");
            }
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;

    fn sec(raw: &[u8], part: &[u32], text: Option<SectionText>) -> Option<String> {
        section(raw, &Section { part: part.to_vec(), text }).map(|b| String::from_utf8(b).unwrap())
    }

    fn fields(not: bool, f: &[&str]) -> Option<SectionText> {
        Some(SectionText::HeaderFields { not, fields: f.iter().map(|s| s.to_string()).collect() })
    }

    #[test]
    fn whole_header_text() {
        let raw = SIMPLE;
        let s = std::str::from_utf8(raw).unwrap();
        let split = s.find("\r\n\r\n").unwrap() + 4;
        assert_eq!(sec(raw, &[], None).unwrap(), s);
        assert_eq!(sec(raw, &[], Some(SectionText::Header)).unwrap(), &s[..split]);
        assert_eq!(sec(raw, &[], Some(SectionText::Text)).unwrap(), &s[split..]);
        assert_eq!(sec(raw, &[], Some(SectionText::Mime)), None);
    }

    #[test]
    fn header_fields_folded_and_case_insensitive() {
        let raw = b"Received: a\r\n\tb\r\nSubject: one\r\n two\r\nFROM: x@y\r\nto: z@w\r\nX-Other: q\r\n\r\nbody\r\n";
        assert_eq!(
            sec(raw, &[], fields(false, &["from", "SUBJECT", "cc"])).unwrap(),
            "Subject: one\r\n two\r\nFROM: x@y\r\n\r\n"
        );
        assert_eq!(
            sec(raw, &[], fields(true, &["subject", "from"])).unwrap(),
            "Received: a\r\n\tb\r\nto: z@w\r\nX-Other: q\r\n\r\n"
        );
        assert_eq!(sec(raw, &[], fields(false, &["nothing"])).unwrap(), "\r\n");
    }

    #[test]
    fn header_without_body() {
        assert_eq!(sec(b"Subject: x", &[], Some(SectionText::Header)).unwrap(), "Subject: x\r\n\r\n");
        assert_eq!(sec(b"Subject: x", &[], Some(SectionText::Text)).unwrap(), "");
    }

    #[test]
    fn single_part_part_one_is_body() {
        let s = std::str::from_utf8(SIMPLE).unwrap();
        let split = s.find("\r\n\r\n").unwrap() + 4;
        assert_eq!(sec(SIMPLE, &[1], None).unwrap(), &s[split..]);
        assert_eq!(sec(SIMPLE, &[1], Some(SectionText::Mime)).unwrap(), &s[..split]);
        assert_eq!(sec(SIMPLE, &[2], None), None);
        assert_eq!(sec(SIMPLE, &[1, 1], None), None);
        assert_eq!(sec(SIMPLE, &[1], Some(SectionText::Header)), None);
    }

    #[test]
    fn multipart_parts() {
        assert_eq!(sec(MIXED, &[1], None).unwrap(), "Hello\r\nthere");
        assert_eq!(
            sec(MIXED, &[1], Some(SectionText::Mime)).unwrap(),
            "Content-Type: text/plain; charset=us-ascii\r\nContent-Language: en\r\n\r\n"
        );
        assert_eq!(sec(MIXED, &[2], None).unwrap(), "JVBERi0xLjQK\r\n");
        assert_eq!(sec(MIXED, &[4], None), None);
        assert_eq!(sec(MIXED, &[0], None), None);
        // message/rfc822 part
        let inner = sec(MIXED, &[3], None).unwrap();
        assert!(inner.starts_with("Date: Wed, 2 Mar 2022"), "{inner}");
        assert!(inner.ends_with("inner body\r\n"), "{inner}");
        assert_eq!(
            sec(MIXED, &[3], Some(SectionText::Header)).unwrap(),
            "Date: Wed, 2 Mar 2022 10:00:00 +0000\r\nFrom: x@y.org\r\nSubject: inner\r\n\r\n"
        );
        assert_eq!(sec(MIXED, &[3], Some(SectionText::Text)).unwrap(), "inner body\r\n");
        assert_eq!(sec(MIXED, &[3], fields(false, &["subject"])).unwrap(), "Subject: inner\r\n\r\n");
        assert_eq!(sec(MIXED, &[3, 1], None).unwrap(), "inner body\r\n");
        assert_eq!(sec(MIXED, &[3, 2], None), None);
        assert_eq!(sec(MIXED, &[2], Some(SectionText::Header)), None);
    }

    #[test]
    fn nested_multipart_in_message() {
        assert_eq!(sec(NESTED, &[2, 1], None).unwrap(), "inner text");
        assert_eq!(sec(NESTED, &[2, 2], None).unwrap(), "<b>x</b>");
        assert_eq!(sec(NESTED, &[2, 2], Some(SectionText::Mime)).unwrap(), "Content-Type: text/html\r\n\r\n");
        assert_eq!(sec(NESTED, &[2, 3], None), None);
        let text = sec(NESTED, &[2], Some(SectionText::Text)).unwrap();
        assert!(text.starts_with("--YY\r\n") && text.ends_with("--YY--\r\n"), "{text:?}");
        assert_eq!(sec(NESTED, &[3], None).unwrap(), "aGVsbG8=");
    }

    #[test]
    fn embedded_message_text_keeps_the_epilogue() {
        let raw = b"Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\n\
Content-Type: message/rfc822\r\n\r\n\
Subject: inner\r\nContent-Type: multipart/digest; boundary=foo\r\n\r\n\
--foo\r\n\r\nSubject: d1\r\n\r\nbody1\r\n--foo--\r\n\r\nepilogue\r\n\
--o--\r\n";
        let text = sec(raw, &[1], Some(SectionText::Text)).unwrap();
        assert!(text.starts_with("--foo\r\n") && text.ends_with("--foo--\r\n\r\nepilogue"), "{text:?}");
        let whole = sec(raw, &[1], None).unwrap();
        assert!(whole.ends_with(&text), "TEXT is the tail of BODY[1]: {whole:?} / {text:?}");
    }

    #[test]
    fn multipart_in_multipart() {
        let raw = b"Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\n\
Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\n\r\nplain\r\n--b\r\n\
Content-Type: text/html\r\n\r\nhtml\r\n--b--\r\n\r\n--a\r\nContent-Type: image/png\r\n\r\nPNG\r\n--a--\r\n";
        assert_eq!(
            sec(raw, &[1], None).unwrap(),
            "--b\r\n\r\nplain\r\n--b\r\nContent-Type: text/html\r\n\r\nhtml\r\n--b--\r\n"
        );
        assert_eq!(
            sec(raw, &[1], Some(SectionText::Mime)).unwrap(),
            "Content-Type: multipart/alternative; boundary=b\r\n\r\n"
        );
        assert_eq!(sec(raw, &[1, 1], None).unwrap(), "plain");
        assert_eq!(sec(raw, &[1, 1], Some(SectionText::Mime)).unwrap(), "\r\n");
        assert_eq!(sec(raw, &[1, 2], None).unwrap(), "html");
        assert_eq!(sec(raw, &[2], None).unwrap(), "PNG");
        assert_eq!(sec(raw, &[2, 1], None), None);
        assert_eq!(sec(raw, &[1, 1, 1], None), None);
        let bs = String::from_utf8(super::super::compute_meta(raw).body).unwrap();
        assert_eq!(
            bs,
            concat!(
                r#"((("text" "plain" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 5 1)("text" "html" NIL NIL NIL "7BIT" 4 1)"#,
                r#" "alternative")("image" "png" NIL NIL NIL "7BIT" 3) "mixed")"#
            )
        );
    }

    #[test]
    fn lf_only_message() {
        let raw = b"Subject: lf\nContent-Type: multipart/mixed; boundary=a\n\n--a\n\none\ntwo\n--a\n\
Content-Type: message/rfc822\n\nSubject: in\n\nbody\n--a--\n";
        assert_eq!(
            sec(raw, &[], Some(SectionText::Header)).unwrap(),
            "Subject: lf\nContent-Type: multipart/mixed; boundary=a\n\n"
        );
        assert_eq!(sec(raw, &[], fields(false, &["subject"])).unwrap(), "Subject: lf\n\r\n");
        assert_eq!(sec(raw, &[1], None).unwrap(), "one\ntwo");
        assert_eq!(sec(raw, &[2], None).unwrap(), "Subject: in\n\nbody");
        assert_eq!(sec(raw, &[2], Some(SectionText::Header)).unwrap(), "Subject: in\n\n");
        assert_eq!(sec(raw, &[2, 1], None).unwrap(), "body");
    }

    #[test]
    fn top_level_message_rfc822() {
        let raw = b"Subject: outer\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner body\r\n";
        assert_eq!(sec(raw, &[1], None).unwrap(), "Subject: inner\r\n\r\ninner body\r\n");
        assert_eq!(sec(raw, &[1], Some(SectionText::Header)).unwrap(), "Subject: inner\r\n\r\n");
        assert_eq!(sec(raw, &[1, 1], None).unwrap(), "inner body\r\n");
        assert_eq!(sec(raw, &[2], None), None);
    }

    #[test]
    fn digest_parts_default_to_messages() {
        let raw = b"Content-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\nSubject: d1\r\n\r\nb1\r\n\
--d\r\n\r\nSubject: d2\r\n\r\nb2\r\n--d--\r\n";
        assert_eq!(sec(raw, &[2], None).unwrap(), "Subject: d2\r\n\r\nb2");
        assert_eq!(sec(raw, &[2], Some(SectionText::Text)).unwrap(), "b2");
        assert_eq!(sec(raw, &[1, 1], None).unwrap(), "b1");
        let bs = String::from_utf8(super::super::compute_meta(raw).body).unwrap();
        assert!(bs.starts_with(r#"(("message" "rfc822" NIL NIL NIL "7BIT" 17 (NIL "d1" "#), "{bs}");
        assert!(bs.ends_with(r#" "digest")"#), "{bs}");
    }

    #[test]
    fn partial_ranges() {
        assert_eq!(partial(b"0123456789", 2, 3), b"234");
        assert_eq!(partial(b"0123456789", 8, 30), b"89");
        assert_eq!(partial(b"0123456789", 20, 3), b"");
        assert_eq!(partial(b"0123456789", u32::MAX, u32::MAX), b"");
    }
}
