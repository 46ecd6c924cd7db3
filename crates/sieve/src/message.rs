//! The message a script runs against: top-level header fields (editable by
//! editheader), the MIME tree, and the envelope.

use mail_parser::{MessageParser, MimeHeaders, PartType};

/// The SMTP envelope of the delivery.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Envelope {
    /// MAIL FROM (empty for the null return path `<>`).
    pub from: String,
    /// RCPT TO of this delivery.
    pub to: String,
    /// AUTH identity, if any.
    pub auth: Option<String>,
}

impl Envelope {
    pub fn new(from: impl Into<String>, to: impl Into<String>) -> Self {
        Envelope { from: from.into(), to: to.into(), auth: None }
    }
}

/// One header field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderField {
    pub name: String,
    /// The value as in the message: unfolded, without the leading and
    /// trailing white space, not decoded.
    pub raw: String,
}

impl HeaderField {
    /// The value with RFC 2047 encoded words decoded.
    pub fn decoded(&self) -> String {
        decode_2047(&self.raw)
    }
}

/// Decodes RFC 2047 encoded words in an unstructured header value.
pub fn decode_2047(raw: &str) -> String {
    if !raw.contains("=?") {
        return raw.to_string();
    }
    let mut buf = Vec::with_capacity(raw.len() + 2);
    buf.extend_from_slice(raw.as_bytes());
    buf.extend_from_slice(b"\r\n");
    match mail_parser::parsers::MessageStream::new(&buf).parse_unstructured() {
        mail_parser::HeaderValue::Text(t) => t.trim().to_string(),
        _ => raw.to_string(),
    }
}

/// A MIME part (RFC 2045) of the message.
#[derive(Debug, Clone, Default)]
pub struct MimePart {
    pub headers: Vec<HeaderField>,
    /// Lower-case media type and subtype (default `text`/`plain`).
    pub ctype: String,
    pub csubtype: String,
    /// Content-Type parameters, names lower-cased.
    pub params: Vec<(String, String)>,
    /// Child parts (multipart children, or the root of an attached message).
    pub children: Vec<usize>,
    /// Decoded content of a leaf part as text (HTML left as HTML); `None` for
    /// binary parts.
    pub text: Option<String>,
    /// Decoded content of a leaf part.
    pub content: Vec<u8>,
    pub is_multipart: bool,
}

impl MimePart {
    /// `text/plain` for text parts, with HTML converted to plain text.
    pub fn plain_text(&self) -> Option<String> {
        let t = self.text.as_ref()?;
        if self.ctype == "text" && self.csubtype == "html" {
            Some(mail_parser::decoders::html::html_to_text(t))
        } else if self.ctype == "text" {
            Some(t.clone())
        } else {
            None
        }
    }
}

/// A parsed message. Build it with [`Message::parse`].
#[derive(Debug, Clone)]
pub struct Message {
    raw: Vec<u8>,
    /// Top-level header fields, in order.
    pub headers: Vec<HeaderField>,
    body_offset: usize,
    /// MIME parts; index 0 is the message itself.
    pub parts: Vec<MimePart>,
}

const MAX_PARTS: usize = 1000;
const MAX_DEPTH: usize = 20;

fn unfold(v: &[u8]) -> String {
    let s = String::from_utf8_lossy(v);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c != '\r' && c != '\n' {
            out.push(c);
        }
    }
    out.trim().to_string()
}

/// Splits a header section into fields. Returns the fields and the offset of
/// the body.
fn split_headers(raw: &[u8]) -> (Vec<HeaderField>, usize) {
    let mut fields: Vec<HeaderField> = Vec::new();
    let mut i = 0;
    let mut cur: Option<(String, Vec<u8>)> = None;
    while i < raw.len() {
        let end = raw[i..].iter().position(|&b| b == b'\n').map(|p| i + p + 1).unwrap_or(raw.len());
        let line = &raw[i..end];
        let trimmed: &[u8] = line.strip_suffix(b"\n").unwrap_or(line);
        let trimmed: &[u8] = trimmed.strip_suffix(b"\r").unwrap_or(trimmed);
        if trimmed.is_empty() {
            if let Some((n, v)) = cur.take() {
                fields.push(HeaderField { name: n, raw: unfold(&v) });
            }
            return (fields, end);
        }
        if matches!(trimmed.first(), Some(b' ' | b'\t')) {
            if let Some((_, v)) = cur.as_mut() {
                v.extend_from_slice(trimmed);
            }
        } else {
            if let Some((n, v)) = cur.take() {
                fields.push(HeaderField { name: n, raw: unfold(&v) });
            }
            if let Some(colon) = trimmed.iter().position(|&b| b == b':') {
                let name = String::from_utf8_lossy(&trimmed[..colon]).trim().to_string();
                cur = Some((name, trimmed[colon + 1..].to_vec()));
            } else {
                // not a header line: the header section ends here
                return (fields, i);
            }
        }
        i = end;
    }
    if let Some((n, v)) = cur.take() {
        fields.push(HeaderField { name: n, raw: unfold(&v) });
    }
    (fields, raw.len())
}

fn convert(msg: &mail_parser::Message<'_>, id: usize, out: &mut Vec<MimePart>, depth: usize) -> Option<usize> {
    if out.len() >= MAX_PARTS || depth > MAX_DEPTH {
        return None;
    }
    let part = msg.parts.get(id)?;
    let raw = msg.raw_message.as_ref();
    let mut mp = MimePart::default();
    for h in &part.headers {
        let v = raw.get(h.offset_start as usize..h.offset_end as usize).unwrap_or_default();
        mp.headers.push(HeaderField { name: h.name.as_str().to_string(), raw: unfold(v) });
    }
    match part.content_type() {
        Some(ct) => {
            mp.ctype = ct.c_type.to_ascii_lowercase();
            mp.csubtype = ct.c_subtype.as_deref().unwrap_or("").to_ascii_lowercase();
            if let Some(attrs) = &ct.attributes {
                for a in attrs {
                    mp.params.push((a.name.to_ascii_lowercase(), a.value.to_string()));
                }
            }
        }
        None => {
            mp.ctype = "text".into();
            mp.csubtype = "plain".into();
        }
    }
    let idx = out.len();
    match &part.body {
        PartType::Text(t) | PartType::Html(t) => {
            mp.text = Some(t.to_string());
            mp.content = t.as_bytes().to_vec();
        }
        PartType::Binary(b) | PartType::InlineBinary(b) => {
            mp.content = b.to_vec();
            if mp.ctype == "text" {
                mp.text = Some(String::from_utf8_lossy(b).into_owned());
            }
        }
        PartType::Multipart(_) => mp.is_multipart = true,
        PartType::Message(_) => {}
    }
    out.push(mp);
    match &part.body {
        PartType::Multipart(ids) => {
            for c in ids {
                if let Some(ci) = convert(msg, *c as usize, out, depth + 1) {
                    if let Some(p) = out.get_mut(idx) {
                        p.children.push(ci);
                    }
                }
            }
        }
        PartType::Message(inner) => {
            if let Some(ci) = convert(inner, 0, out, depth + 1) {
                if let Some(p) = out.get_mut(idx) {
                    p.children.push(ci);
                }
            }
        }
        _ => {}
    }
    Some(idx)
}

impl Message {
    /// Parses a message (RFC 5322, with MIME). Never fails: unparsable
    /// content yields a message with what could be read.
    pub fn parse(raw: &[u8]) -> Message {
        let (headers, body_offset) = split_headers(raw);
        let mut parts = Vec::new();
        if let Some(m) = MessageParser::default().parse(raw) {
            convert(&m, 0, &mut parts, 0);
        }
        if parts.is_empty() {
            parts.push(MimePart {
                ctype: "text".into(),
                csubtype: "plain".into(),
                text: Some(String::from_utf8_lossy(raw.get(body_offset..).unwrap_or_default()).into_owned()),
                ..MimePart::default()
            });
        }
        // The root part's headers are the top-level ones.
        if let Some(root) = parts.first_mut() {
            root.headers = headers.clone();
        }
        Message { raw: raw.to_vec(), headers, body_offset, parts }
    }

    /// The whole message as received.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// The body, undecoded (for `body :raw`).
    pub fn raw_body(&self) -> &[u8] {
        self.raw.get(self.body_offset..).unwrap_or_default()
    }

    /// Size in octets (RFC 5228 §5.9).
    pub fn size(&self) -> usize {
        self.raw.len()
    }

    /// Raw values of the top-level fields called `name` (case-insensitive).
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers.iter().filter(|h| h.name.eq_ignore_ascii_case(name)).map(|h| h.raw.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_unfold_and_decode() {
        let m = Message::parse(b"Subject: =?utf-8?q?caf=C3=A9?=\r\n more\r\nFrom: a@b\r\n\r\nbody\r\n");
        assert_eq!(m.headers.len(), 2);
        assert_eq!(m.headers[0].raw, "=?utf-8?q?caf=C3=A9?= more");
        assert_eq!(m.headers[0].decoded(), "café more");
        assert_eq!(m.raw_body(), b"body\r\n");
    }

    #[test]
    fn mime_tree() {
        let raw = b"Content-Type: multipart/mixed; boundary=X\r\n\r\n--X\r\nContent-Type: text/plain\r\n\r\nhello\r\n--X\r\nContent-Type: text/html\r\n\r\n<p>hi <b>there</b></p>\r\n--X--\r\n";
        let m = Message::parse(raw);
        assert_eq!(m.parts.len(), 3);
        assert_eq!(m.parts[0].children, vec![1, 2]);
        assert_eq!(m.parts[2].csubtype, "html");
        assert!(m.parts[2].plain_text().unwrap_or_default().contains("hi there"));
    }

    #[test]
    fn garbage_does_not_panic() {
        let m = Message::parse(b"\xff\xfe no headers here");
        assert!(!m.parts.is_empty());
        let _ = Message::parse(b"");
    }
}
