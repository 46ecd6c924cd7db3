//! Modified UTF-7 mailbox names (RFC 3501 §5.1.3; RFC 9051 §5.1.3 for clients
//! that did not enable UTF8=ACCEPT).
//!
//! Printable US-ASCII (0x20–0x7e) except `&` represents itself; `&` is `&-`;
//! everything else is UTF-16 in modified BASE64 (`,` instead of `/`, no
//! padding) between `&` and `-`.

use thiserror::Error;

#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("invalid modified UTF-7 mailbox name")]
pub struct Utf7Error;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

fn b64_val(b: u8) -> Option<u32> {
    Some(match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        b'+' => 62,
        b',' => 63,
        _ => return None,
    } as u32)
}

fn is_direct(c: char) -> bool {
    (' '..='~').contains(&c)
}

fn flush(units: &mut Vec<u16>, out: &mut String) {
    if units.is_empty() {
        return;
    }
    out.push('&');
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &u in units.iter() {
        acc = (acc << 16) | u32::from(u);
        bits += 16;
        while bits >= 6 {
            bits -= 6;
            out.push(ALPHABET[((acc >> bits) & 0x3f) as usize] as char);
        }
        acc &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(ALPHABET[((acc << (6 - bits)) & 0x3f) as usize] as char);
    }
    out.push('-');
    units.clear();
}

/// UTF-8 → modified UTF-7.
pub fn encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut units: Vec<u16> = Vec::new();
    for c in name.chars() {
        if is_direct(c) {
            flush(&mut units, &mut out);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            let mut buf = [0u16; 2];
            units.extend_from_slice(c.encode_utf16(&mut buf));
        }
    }
    flush(&mut units, &mut out);
    out
}

/// Modified UTF-7 → UTF-8. Rejects non-canonical forms (RFC 3501 §5.1.3: "&-"
/// only for "&", no encoded printable ASCII, no zero-length shifts …).
pub fn decode(name: &str) -> Result<String, Utf7Error> {
    let bytes = name.as_bytes();
    let mut out = String::with_capacity(name.len());
    let mut i = 0;
    // Whether the previous item was a base64 shift (two adjacent shifts are
    // not canonical: the encoder would have merged them).
    let mut after_shift = false;
    while let Some(&b) = bytes.get(i) {
        if b != b'&' {
            if !(0x20..0x7f).contains(&b) {
                return Err(Utf7Error);
            }
            out.push(b as char);
            i += 1;
            after_shift = false;
            continue;
        }
        i += 1;
        if bytes.get(i) == Some(&b'-') {
            out.push('&');
            i += 1;
            after_shift = false;
            continue;
        }
        if after_shift {
            return Err(Utf7Error);
        }
        let start = i;
        while bytes.get(i).is_some_and(|&c| c != b'-') {
            i += 1;
        }
        if bytes.get(i) != Some(&b'-') {
            return Err(Utf7Error); // unterminated shift
        }
        let run = bytes.get(start..i).ok_or(Utf7Error)?;
        i += 1;
        if run.is_empty() {
            return Err(Utf7Error);
        }
        let mut units: Vec<u16> = Vec::new();
        let mut acc: u32 = 0;
        let mut bits = 0;
        for &c in run {
            acc = (acc << 6) | b64_val(c).ok_or(Utf7Error)?;
            bits += 6;
            if bits >= 16 {
                bits -= 16;
                units.push((acc >> bits) as u16);
                acc &= (1 << bits) - 1;
            }
        }
        // Leftover bits must be fewer than one base64 character and zero.
        if bits >= 6 || acc != 0 || units.is_empty() {
            return Err(Utf7Error);
        }
        for r in char::decode_utf16(units.iter().copied()) {
            let c = r.map_err(|_| Utf7Error)?;
            if is_direct(c) {
                return Err(Utf7Error);
            }
            out.push(c);
        }
        after_shift = true;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_example() {
        let utf8 = "~peter/mail/\u{53f0}\u{5317}/\u{65e5}\u{672c}\u{8a9e}";
        assert_eq!(encode(utf8), "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
        assert_eq!(decode("~peter/mail/&U,BTFw-/&ZeVnLIqe-").unwrap(), utf8);
    }

    #[test]
    fn ampersand_and_ascii() {
        assert_eq!(encode("A&B"), "A&-B");
        assert_eq!(decode("A&-B").unwrap(), "A&B");
        assert_eq!(encode("INBOX"), "INBOX");
        assert_eq!(decode("INBOX").unwrap(), "INBOX");
        assert_eq!(encode(""), "");
        assert_eq!(encode("&&"), "&-&-");
    }

    #[test]
    fn round_trips() {
        for s in [
            "Entwürfe",
            "Gelöschte Objekte",
            "日本語",
            "a\u{1F600}b",
            "\u{1F600}\u{1F601}",
            "tab\there",
            "ä&ö",
            "Ω",
            "ÄÖÜäöüß/Sub",
            "\u{7f}",
        ] {
            let e = encode(s);
            assert!(e.bytes().all(|b| (0x20..0x7f).contains(&b)), "{e}");
            assert_eq!(decode(&e).unwrap(), s, "{e}");
        }
        assert_eq!(encode("Entwürfe"), "Entw&APw-rfe");
        assert_eq!(encode("\u{1F600}"), "&2D3eAA-");
    }

    #[test]
    fn rejects() {
        for bad in [
            "&",             // unterminated
            "&U,BTFw",       // unterminated
            "&-&",           // unterminated after escape
            "&U,BT!w-",      // bad base64 char
            "&U/BTFw-",      // '/' is not modified base64
            "&AEE-",         // encoded printable ASCII 'A'
            "&ACY-",         // encoded '&'
            "&AP3-",         // non-zero trailing bits
            "&APw",          // unterminated
            "&2D0-",         // lone high surrogate
            "&3gA-",         // lone low surrogate
            "&2D3YPQ-",      // two high surrogates
            "&AP-",          // too few bits for a unit
            "&APwA-",        // leftover whole character
            "Entw\u{fc}rfe", // raw 8-bit
            "a\tb",          // raw control
            "&APw-&APw-",    // adjacent shifts
        ] {
            assert_eq!(decode(bad), Err(Utf7Error), "{bad:?}");
        }
        assert_eq!(decode("&APwA5A-").unwrap(), "üä");
    }
}
