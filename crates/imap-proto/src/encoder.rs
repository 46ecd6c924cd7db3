//! The response encoder (RFC 9051 §7, `response` in §9).

use crate::Response;

/// Appends the wire form of `response` (including its CRLF) to `out`.
pub fn encode(response: &Response, out: &mut Vec<u8>) {
    todo!()
}

/// Strings up to this length that are printable ASCII are sent quoted.
const MAX_QUOTED: usize = 1024;

/// Appends an IMAP string (`string = quoted / literal`): quoted when it is
/// short printable ASCII, a synchronizing-form literal (`{N}` CRLF bytes)
/// otherwise. Servers never wait for a continuation, so the form is only
/// framing for the client.
pub fn string(bytes: &[u8], out: &mut Vec<u8>) {
    if bytes.len() <= MAX_QUOTED && bytes.iter().all(|&b| (0x20..0x7f).contains(&b)) {
        out.push(b'"');
        for &b in bytes {
            if b == b'"' || b == b'\\' {
                out.push(b'\\');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        literal(bytes, out);
    }
}

/// Appends `{N}` CRLF and the bytes.
pub fn literal(bytes: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(format!("{{{}}}\r\n", bytes.len()).as_bytes());
    out.extend_from_slice(bytes);
}

/// Appends `NIL` or a string (`nstring = string / nil`).
pub fn nstring(bytes: Option<&[u8]>, out: &mut Vec<u8>) {
    match bytes {
        Some(b) => string(b, out),
        None => out.extend_from_slice(b"NIL"),
    }
}
