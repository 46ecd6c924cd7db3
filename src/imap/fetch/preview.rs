//! RFC 8970 PREVIEW: a short plain-text preview of a message, computed once
//! at APPEND/delivery (stored with the message's metadata) and sent verbatim
//! by FETCH PREVIEW.
//!
//! The text is the message's first text body part (text/plain preferred,
//! else text/html reduced to text), decoded from its transfer encoding and
//! charset by mail-parser, with quoted lines (`> …`), the "On … wrote:" line
//! introducing them and everything from the signature separator (`-- `) on
//! left out, whitespace collapsed, and cut at [`MAX_CHARS`] characters.
//! Messages without readable text (only attachments, encrypted) get `""`
//! (§3.2: the server MUST return a zero-length string then).

use mail_parser::{Message, MimeHeaders, PartType};

/// RFC 8970 §3.3: SHOULD be at most 200 preview characters, MUST NOT be more
/// than 256.
pub const MAX_CHARS: usize = 200;

/// Bytes of decoded text looked at; a preview needs only the start.
const SCAN_BYTES: usize = 64 * 1024;

/// The preview of a raw message.
pub fn preview(raw: &[u8]) -> String {
    let msg = super::parse(raw);
    of_message(raw, msg.as_ref())
}

/// The preview of an already parsed message (`None`: mail-parser found no
/// header, so the whole input is plain text).
pub(crate) fn of_message(raw: &[u8], msg: Option<&Message<'_>>) -> String {
    let Some(msg) = msg else {
        let body = &raw[super::top_header_len(raw)..];
        return clean(&String::from_utf8_lossy(&body[..body.len().min(SCAN_BYTES)]));
    };
    if let Some(root) = msg.parts.first() {
        // RFC 1847 multipart/encrypted, S/MIME: nothing readable.
        if let Some(ct) = root.content_type() {
            let t = (ct.ctype().to_ascii_lowercase(), ct.subtype().unwrap_or("").to_ascii_lowercase());
            if (t.0 == "multipart" && t.1 == "encrypted") || (t.0 == "application" && t.1 == "pkcs7-mime") {
                return String::new();
            }
        }
    }
    let first = msg.text_body.first().or_else(|| msg.html_body.first());
    let Some(part) = first.and_then(|&i| msg.parts.get(i as usize)) else { return String::new() };
    match &part.body {
        PartType::Text(t) => clean(head(t)),
        PartType::Html(h) => clean(&mail_parser::decoders::html::html_to_text(head(h))),
        _ => String::new(),
    }
}

/// The first [`SCAN_BYTES`] of `s`, cut at a character boundary.
fn head(s: &str) -> &str {
    if s.len() <= SCAN_BYTES {
        return s;
    }
    let mut end = SCAN_BYTES;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Plain text → one line of at most [`MAX_CHARS`] characters.
fn clean(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let quoted = |l: &str| l.trim_start().starts_with('>');
    let mut out = String::new();
    let mut count = 0;
    for (i, line) in lines.iter().enumerate() {
        // RFC 3676 §4.3 signature separator; "--" alone is common too.
        if line.trim_end() == "--" {
            break;
        }
        if quoted(line) {
            continue;
        }
        // "On Mon, … Bob wrote:" directly before a quote.
        if line.trim_end().ends_with(':')
            && lines[i + 1..].iter().find(|l| !l.trim().is_empty()).is_some_and(|l| quoted(l))
        {
            continue;
        }
        for word in line.split(|c: char| c.is_whitespace() || c.is_control()).filter(|w| !w.is_empty()) {
            let n = word.chars().count() + usize::from(count > 0);
            if count + n > MAX_CHARS {
                // Cut inside the word only when it alone is longer than the room left.
                if count == 0 {
                    out.extend(word.chars().take(MAX_CHARS));
                }
                return out;
            }
            if count > 0 {
                out.push(' ');
            }
            out.push_str(word);
            count += n;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_whitespace_collapsed() {
        let raw = b"Subject: x\r\n\r\n  Hello\t there,\r\n\r\n  how   are you?\r\n";
        assert_eq!(preview(raw), "Hello there, how are you?");
    }

    #[test]
    fn quotes_and_signature_left_out() {
        let raw = b"Subject: Re: x\r\n\r\nSounds good.\r\n\r\nOn Mon, 7 Feb 1994, Bob wrote:\r\n> old text\r\n>> older\r\nSee you.\r\n-- \r\nAlice\r\nphone\r\n";
        assert_eq!(preview(raw), "Sounds good. See you.");
    }

    #[test]
    fn html_reduced_to_text() {
        let raw = b"Content-Type: text/html; charset=utf-8\r\n\r\n<html><head><style>p{color:red}</style><title>T</title></head>\
<body><p>Hello&nbsp;<b>world</b> &amp; more</p><script>x()</script></body></html>\r\n";
        let p = preview(raw);
        assert!(p.starts_with("Hello"), "{p:?}");
        assert!(p.contains("world & more"), "{p:?}");
        assert!(!p.contains('<') && !p.contains("color") && !p.contains("x()"), "{p:?}");
    }

    #[test]
    fn multipart_prefers_plain_and_decodes() {
        // text/plain (QP, UTF-8) beside text/html.
        assert_eq!(preview(crate::imap::fetch::fixtures::ALTERNATIVE), "Grüße");
        let latin1 = b"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: base64\r\n\r\nQ2Fm6SBjcuhtZQ==\r\n";
        assert_eq!(preview(latin1), "Café crème");
    }

    #[test]
    fn no_text_is_empty() {
        let raw = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--b--\r\n";
        assert_eq!(preview(raw), "");
        let enc = b"Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=b\r\n\r\n--b\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n--b\r\nContent-Type: text/plain\r\n\r\nsecret\r\n--b--\r\n";
        assert_eq!(preview(enc), "");
        assert_eq!(preview(b"Subject: empty\r\n\r\n"), "");
        assert_eq!(preview(b""), "");
    }

    #[test]
    fn at_most_200_characters() {
        let body = "wörd ".repeat(100);
        let p = preview(format!("Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n").as_bytes());
        assert!(p.chars().count() <= MAX_CHARS && p.chars().count() > 190, "{}", p.chars().count());
        assert!(p.ends_with("wörd"));
        let long = "x".repeat(1000);
        assert_eq!(preview(format!("Subject: a\r\n\r\n{long}\r\n").as_bytes()).len(), MAX_CHARS);
    }
}
