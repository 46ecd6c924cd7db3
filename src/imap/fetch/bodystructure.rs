//! BODYSTRUCTURE (extensible) and BODY (non-extensible) — RFC 9051 §7.5.2,
//! `body` in §9.
//!
//! Media types, subtypes and parameter names are sent in lower case as
//! mail-parser normalizes them; defaults (no Content-Type) are sent as the
//! RFC spells them: `"TEXT" "PLAIN" ("CHARSET" "US-ASCII")`, encoding `"7BIT"`.

use imap_proto::encoder::{nstring, string};
use mail_parser::{ContentType, HeaderName};

use super::{envelope, raw_value, Field, Kind, Node};

/// Encodes the `body` of `node` (the message root or any part).
pub(crate) fn encode(raw: &[u8], node: &Node<'_>, ext: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    write(raw, node, ext, &mut out);
    out
}

fn write(raw: &[u8], node: &Node<'_>, ext: bool, out: &mut Vec<u8>) {
    let fields = node.fields(raw);
    let ct = content_type(node, HeaderName::ContentType);
    out.push(b'(');
    match &node.kind {
        Kind::Multipart(children) => {
            if children.is_empty() {
                out.extend_from_slice(br#"("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 0 0)"#);
            }
            for c in children {
                write(raw, c, ext, out);
            }
            out.push(b' ');
            string(node.subtype.as_bytes(), out);
            if ext {
                out.push(b' ');
                write_params(ct.and_then(|c| c.attributes()), out);
                write_ext_common(&fields, node, out);
            }
        }
        Kind::Leaf | Kind::Message(_) => {
            string(node.ctype.as_bytes(), out);
            out.push(b' ');
            string(node.subtype.as_bytes(), out);
            out.push(b' ');
            let declared = ct.is_some_and(|c| c.ctype().eq_ignore_ascii_case(&node.ctype));
            if declared {
                write_params(ct.and_then(|c| c.attributes()), out);
            } else if node.ctype == "text" {
                out.extend_from_slice(br#"("CHARSET" "US-ASCII")"#);
            } else {
                out.extend_from_slice(b"NIL");
            }
            out.push(b' ');
            nstring(field(&fields, "content-id").as_deref(), out);
            out.push(b' ');
            nstring(field(&fields, "content-description").as_deref(), out);
            out.push(b' ');
            match field(&fields, "content-transfer-encoding") {
                Some(enc) => string(&enc, out),
                None => string(b"7BIT", out),
            }
            out.push(b' ');
            out.extend_from_slice(node.body.len().to_string().as_bytes());
            let body = &raw[node.body.clone()];
            if let Kind::Message(inner) = &node.kind {
                out.push(b' ');
                out.extend_from_slice(&envelope::encode(&raw[inner.header.clone()]));
                out.push(b' ');
                write(raw, inner, ext, out);
                out.push(b' ');
                out.extend_from_slice(lines(body).to_string().as_bytes());
            } else if node.ctype == "text" {
                out.push(b' ');
                out.extend_from_slice(lines(body).to_string().as_bytes());
            }
            if ext {
                out.push(b' ');
                nstring(field(&fields, "content-md5").as_deref(), out);
                write_ext_common(&fields, node, out);
            }
        }
    }
    out.push(b')');
}

/// ` body-fld-dsp SP body-fld-lang SP body-fld-loc`
fn write_ext_common(fields: &[Field<'_>], node: &Node<'_>, out: &mut Vec<u8>) {
    out.push(b' ');
    match content_type(node, HeaderName::ContentDisposition) {
        Some(d) if !d.ctype().is_empty() => {
            out.push(b'(');
            string(d.ctype().as_bytes(), out);
            out.push(b' ');
            write_params(d.attributes(), out);
            out.push(b')');
        }
        _ => out.extend_from_slice(b"NIL"),
    }
    out.push(b' ');
    let langs: Vec<Vec<u8>> = field(fields, "content-language")
        .map(|v| {
            v.split(|&c| c == b',')
                .map(|l| l.iter().copied().filter(|c| !c.is_ascii_whitespace()).collect::<Vec<u8>>())
                .filter(|l| !l.is_empty())
                .collect()
        })
        .unwrap_or_default();
    match langs.len() {
        0 => out.extend_from_slice(b"NIL"),
        1 => string(&langs[0], out),
        _ => {
            out.push(b'(');
            for (i, l) in langs.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                string(l, out);
            }
            out.push(b')');
        }
    }
    out.push(b' ');
    nstring(field(fields, "content-location").as_deref(), out);
}

fn content_type<'n>(node: &'n Node<'_>, name: HeaderName<'static>) -> Option<&'n ContentType<'n>> {
    node.part?.headers.iter().find(|h| h.name == name).and_then(|h| h.value.as_content_type())
}

/// The first field of that name, unfolded and trimmed; `None` if absent or empty.
fn field(fields: &[Field<'_>], name: &str) -> Option<Vec<u8>> {
    fields
        .iter()
        .find(|f| f.name.eq_ignore_ascii_case(name.as_bytes()))
        .map(|f| raw_value(f.value))
        .filter(|v| !v.is_empty())
}

/// `body-fld-param`: `("name" "value" …)` or NIL. Values that are not ASCII
/// after RFC 2231/2047 decoding are sent RFC 2231-encoded (`name*` =
/// `utf-8''…`) so the string stays 7-bit.
fn write_params(attrs: Option<&[mail_parser::Attribute<'_>]>, out: &mut Vec<u8>) {
    let attrs: Vec<_> = attrs
        .unwrap_or_default()
        .iter()
        .filter(|a| !a.name.is_empty())
        .filter(|a| {
            // mail-parser reports the RFC 2231 language as an extra `<name>-language`.
            !a.name
                .strip_suffix("-language")
                .is_some_and(|base| attrs.unwrap_or_default().iter().any(|b| b.name == base))
        })
        .collect();
    if attrs.is_empty() {
        out.extend_from_slice(b"NIL");
        return;
    }
    out.push(b'(');
    for (i, a) in attrs.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        if a.value.is_ascii() {
            string(a.name.as_bytes(), out);
            out.push(b' ');
            string(a.value.as_bytes(), out);
        } else {
            string(format!("{}*", a.name).as_bytes(), out);
            out.push(b' ');
            let mut v = String::from("utf-8''");
            for b in a.value.bytes() {
                if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                    v.push(b as char);
                } else {
                    v.push_str(&format!("%{b:02X}"));
                }
            }
            string(v.as_bytes(), out);
        }
    }
    out.push(b')');
}

/// Number of text lines: line ends, plus a final line without one.
pub(crate) fn lines(body: &[u8]) -> usize {
    let n = body.iter().filter(|&&c| c == b'\n').count();
    if body.last().is_some_and(|&c| c != b'\n') {
        n + 1
    } else {
        n
    }
}

#[cfg(test)]
mod tests {
    use super::super::compute_meta;
    use super::super::fixtures::*;

    fn bs(raw: &[u8]) -> (String, String) {
        let m = compute_meta(raw);
        (String::from_utf8(m.bodystructure).unwrap(), String::from_utf8(m.body).unwrap())
    }

    #[test]
    fn simple_text_plain() {
        let (ext, body) = bs(SIMPLE);
        assert_eq!(ext, r#"("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 30 2 NIL NIL NIL NIL)"#);
        assert_eq!(body, r#"("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 30 2)"#);
    }

    #[test]
    fn no_content_type_gets_defaults() {
        let (ext, body) = bs(b"Subject: x\r\n\r\nhello\r\n");
        assert_eq!(ext, r#"("text" "plain" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 7 1 NIL NIL NIL NIL)"#);
        assert_eq!(body, r#"("text" "plain" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 7 1)"#);
    }

    #[test]
    fn multipart_alternative() {
        let (ext, body) = bs(ALTERNATIVE);
        assert_eq!(
            ext,
            concat!(
                r#"(("text" "plain" ("charset" "utf-8") NIL NIL "quoted-printable" 15 1 NIL NIL NIL NIL)"#,
                r#"("text" "html" ("charset" "utf-8") NIL NIL "7BIT" 16 1 NIL NIL NIL NIL)"#,
                r#" "alternative" ("boundary" "b1") NIL NIL NIL)"#
            )
        );
        assert_eq!(
            body,
            concat!(
                r#"(("text" "plain" ("charset" "utf-8") NIL NIL "quoted-printable" 15 1)"#,
                r#"("text" "html" ("charset" "utf-8") NIL NIL "7BIT" 16 1) "alternative")"#
            )
        );
    }

    #[test]
    fn multipart_mixed_with_attachment_and_message() {
        let (ext, body) = bs(MIXED);
        let inner_env = concat!(
            r#"("Wed, 2 Mar 2022 10:00:00 +0000" "inner" ((NIL NIL "x" "y.org")) ((NIL NIL "x" "y.org")) "#,
            r#"((NIL NIL "x" "y.org")) NIL NIL NIL NIL NIL)"#
        );
        let expected_ext = format!(
            concat!(
                r#"(("text" "plain" ("charset" "us-ascii") NIL NIL "7BIT" 12 2 NIL NIL "en" NIL)"#,
                r#"("application" "pdf" ("name" "doc.pdf") "<att1@x>" "A document" "base64" 14 NIL "#,
                r#"("attachment" ("filename" "doc.pdf")) NIL NIL)"#,
                r#"("message" "rfc822" NIL NIL NIL "7BIT" 83 {} "#,
                r#"("text" "plain" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 12 1 NIL NIL NIL NIL) 5 NIL NIL NIL NIL)"#,
                r#" "mixed" ("boundary" "outer") NIL ("de" "en") "http://x/")"#
            ),
            inner_env
        );
        assert_eq!(ext, expected_ext);
        let expected_body = format!(
            concat!(
                r#"(("text" "plain" ("charset" "us-ascii") NIL NIL "7BIT" 12 2)"#,
                r#"("application" "pdf" ("name" "doc.pdf") "<att1@x>" "A document" "base64" 14)"#,
                r#"("message" "rfc822" NIL NIL NIL "7BIT" 83 {} "#,
                r#"("text" "plain" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 12 1) 5) "mixed")"#
            ),
            inner_env
        );
        assert_eq!(body, expected_body);
    }

    #[test]
    fn groups_message_defaults() {
        let (ext, body) = bs(GROUPS);
        assert_eq!(ext, r#"("text" "plain" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 6 1 NIL NIL NIL NIL)"#);
        assert_eq!(body, r#"("text" "plain" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 6 1)"#);
    }

    #[test]
    fn rfc2231_non_ascii_param_is_reencoded() {
        let raw = b"Content-Type: application/octet-stream;\r\n name*=utf-8''%C3%A4.txt\r\n\r\nx";
        let (ext, _) = bs(raw);
        assert!(ext.contains(r#"("name*" "utf-8''%C3%A4.txt")"#), "{ext}");
    }

    #[test]
    fn multipart_without_boundary_is_text() {
        let (ext, _) = bs(b"Content-Type: multipart/mixed\r\n\r\nhello\r\n");
        assert!(ext.starts_with(r#"("text" "plain" ("CHARSET" "US-ASCII")"#), "{ext}");
    }

    #[test]
    fn line_count() {
        assert_eq!(super::lines(b""), 0);
        assert_eq!(super::lines(b"a\r\n"), 1);
        assert_eq!(super::lines(b"a\r\nb"), 2);
    }
}
