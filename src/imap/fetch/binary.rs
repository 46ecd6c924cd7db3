//! `BINARY[part]` and `BINARY.SIZE[part]` (RFC 3516): a part's content with
//! its Content-Transfer-Encoding removed.

use super::{build, parse, raw_value, section::resolve, split_headers, Kind};

/// Why a part cannot be served decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BinaryError {
    /// The part's Content-Transfer-Encoding is not one postfach knows; the
    /// session answers `NO [UNKNOWN-CTE]` (RFC 3516 §4.3).
    #[error("unknown Content-Transfer-Encoding {0:?}")]
    UnknownCte(String),
}

/// The decoded content of a part (`BINARY[part]`). An empty `part` is the
/// whole message as stored. `Ok(None)` when the part does not exist.
/// Multipart and message/rfc822 parts are returned as they are (their
/// encoding can only be 7bit/8bit/binary).
pub fn binary(raw: &[u8], part: &[u32]) -> Result<Option<Vec<u8>>, BinaryError> {
    if part.is_empty() {
        return Ok(Some(raw.to_vec()));
    }
    let msg = parse(raw);
    let root = build(raw, msg.as_ref());
    let Some(node) = resolve(&root, part) else {
        return Ok(None);
    };
    let body = &raw[node.body.clone()];
    if !matches!(node.kind, Kind::Leaf) {
        return Ok(Some(body.to_vec()));
    }
    let cte = split_headers(&raw[node.header.clone()])
        .iter()
        .find(|f| f.name.eq_ignore_ascii_case(b"content-transfer-encoding"))
        .map(|f| String::from_utf8_lossy(&raw_value(f.value)).to_ascii_lowercase())
        .unwrap_or_default();
    match cte.as_str() {
        "" | "7bit" | "8bit" | "binary" => Ok(Some(body.to_vec())),
        "base64" => Ok(Some(decode_base64(body))),
        "quoted-printable" => Ok(Some(decode_qp(body))),
        _ => Err(BinaryError::UnknownCte(cte)),
    }
}

/// `BINARY.SIZE[part]`: the size of what [`binary`] returns.
pub fn binary_size(raw: &[u8], part: &[u32]) -> Result<Option<u64>, BinaryError> {
    Ok(binary(raw, part)?.map(|d| d.len() as u64))
}

/// Lenient base64 (RFC 2045 §6.8): characters outside the alphabet are
/// ignored, decoding stops at the first `=`.
pub(crate) fn decode_base64(input: &[u8]) -> Vec<u8> {
    fn val(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let mut out = Vec::with_capacity(input.len() * 3 / 4);
    let mut acc = 0u32;
    let mut n = 0;
    for &c in input {
        if c == b'=' {
            break;
        }
        let Some(v) = val(c) else { continue };
        acc = (acc << 6) | v;
        n += 1;
        if n == 4 {
            out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
            acc = 0;
            n = 0;
        }
    }
    match n {
        2 => out.push((acc >> 4) as u8),
        3 => out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
        _ => {}
    }
    out
}

/// Quoted-printable (RFC 2045 §6.7): `=XX` escapes, soft line breaks,
/// trailing whitespace removed; malformed escapes are kept as they are.
pub(crate) fn decode_qp(input: &[u8]) -> Vec<u8> {
    fn hex(c: u8) -> Option<u8> {
        (c as char).to_digit(16).map(|d| d as u8)
    }
    let mut out = Vec::with_capacity(input.len());
    let lines = input.split_inclusive(|&c| c == b'\n');
    for line in lines {
        let (content, eol): (&[u8], &[u8]) = if let Some(l) = line.strip_suffix(b"\r\n") {
            (l, b"\r\n")
        } else if let Some(l) = line.strip_suffix(b"\n") {
            (l, b"\n")
        } else {
            (line, b"")
        };
        let mut content = content;
        while let [rest @ .., b' ' | b'\t'] = content {
            content = rest;
        }
        let mut soft = false;
        let mut i = 0;
        while i < content.len() {
            let c = content[i];
            if c == b'=' {
                if i + 1 == content.len() {
                    soft = true;
                    break;
                }
                if let (Some(h), Some(l)) =
                    (content.get(i + 1).and_then(|&c| hex(c)), content.get(i + 2).and_then(|&c| hex(c)))
                {
                    out.push(h << 4 | l);
                    i += 3;
                    continue;
                }
            }
            out.push(c);
            i += 1;
        }
        if !soft {
            out.extend_from_slice(eol);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;

    #[test]
    fn base64_part() {
        assert_eq!(binary(MIXED, &[2]).unwrap().unwrap(), b"%PDF-1.4\n");
        assert_eq!(binary_size(MIXED, &[2]).unwrap(), Some(9));
        assert_eq!(binary(NESTED, &[3]).unwrap().unwrap(), b"hello");
    }

    #[test]
    fn qp_part() {
        assert_eq!(binary(ALTERNATIVE, &[1]).unwrap().unwrap(), "Grüße".as_bytes());
        assert_eq!(binary_size(ALTERNATIVE, &[1]).unwrap(), Some(7));
    }

    #[test]
    fn identity_and_missing() {
        assert_eq!(binary(MIXED, &[1]).unwrap().unwrap(), b"Hello\r\nthere");
        assert_eq!(binary(MIXED, &[9]).unwrap(), None);
        assert_eq!(binary(MIXED, &[]).unwrap().unwrap(), MIXED);
        assert!(binary(MIXED, &[3]).unwrap().unwrap().starts_with(b"Date:"));
    }

    #[test]
    fn unknown_cte() {
        let raw = b"Content-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 x\r\n";
        assert_eq!(binary(raw, &[1]), Err(BinaryError::UnknownCte("x-uuencode".into())));
        assert!(binary_size(raw, &[1]).is_err());
    }

    #[test]
    fn decoders() {
        assert_eq!(decode_base64(b"aGVs\r\nbG8gd29y\r\nbGQ="), b"hello world");
        assert_eq!(decode_base64(b"YQ"), b"a");
        assert_eq!(decode_base64(b"YWI"), b"ab");
        assert_eq!(decode_base64(b"!!"), b"");
        assert_eq!(decode_qp(b"a=3Db=\r\nc  \r\nd=\r\n"), b"a=bc\r\nd");
        assert_eq!(decode_qp(b"bad =ZZ and =4"), b"bad =ZZ and =4");
        assert_eq!(decode_qp(b"x=C3=A4\n"), "xä\n".as_bytes());
    }
}
