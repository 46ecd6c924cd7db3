//! The ManageSieve command grammar (RFC 5804 §4): a command is an atom
//! followed by arguments separated by spaces, ended by CRLF (a bare LF is
//! accepted). Arguments are atoms (numbers), quoted strings (`\"` and `\\`
//! escapes, no CR/LF) or literals `{N+}` CRLF *OCTET; the synchronizing form
//! `{N}` is accepted the same way (ManageSieve has no continuation for
//! literals, and some clients send it).
//!
//! [`parse_command`] works on the bytes received so far and says whether a
//! whole command is there; it never panics (see the fuzz test).

/// One argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    Atom(String),
    /// A quoted string or a literal.
    Str(Vec<u8>),
}

/// The result of looking at the buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum Parse {
    /// A whole command: its tokens and how many bytes it took.
    Done { tokens: Vec<Token>, consumed: usize },
    /// More bytes are needed.
    NeedMore,
    /// A syntax error: answer NO and skip `consumed` bytes (to the end of the line).
    Error { message: String, consumed: usize },
    /// The line or a literal is over the limit: answer BYE and close.
    Fatal(String),
}

/// Parses one command from the start of `buf`. `max_line` bounds the bytes
/// outside literals, `max_literal` each literal.
pub fn parse_command(buf: &[u8], max_line: usize, max_literal: usize) -> Parse {
    let mut tokens = Vec::new();
    let mut i = 0;
    let mut line_bytes = 0usize;
    loop {
        // Without a line end within the limit, give up early.
        if line_bytes > max_line {
            return Parse::Fatal("line too long".into());
        }
        let Some(&b) = buf.get(i) else {
            return if buf.len() - literal_bytes(&tokens) > max_line {
                Parse::Fatal("line too long".into())
            } else {
                Parse::NeedMore
            };
        };
        match b {
            b' ' => {
                i += 1;
                line_bytes += 1;
            }
            b'\r' => match buf.get(i + 1) {
                None => return Parse::NeedMore,
                Some(b'\n') => return done(tokens, i + 2),
                Some(_) => return skip_line(buf, i, "stray CR"),
            },
            b'\n' => return done(tokens, i + 1),
            b'"' => {
                let mut s = Vec::new();
                let mut j = i + 1;
                loop {
                    match buf.get(j) {
                        None => {
                            return if j - i > max_line {
                                Parse::Fatal("line too long".into())
                            } else {
                                Parse::NeedMore
                            }
                        }
                        Some(b'"') => break,
                        Some(b'\\') => match buf.get(j + 1) {
                            None => return Parse::NeedMore,
                            Some(&c @ (b'"' | b'\\')) => {
                                s.push(c);
                                j += 2;
                            }
                            Some(_) => return skip_line(buf, j, "bad escape in quoted string"),
                        },
                        Some(b'\r' | b'\n') => return skip_line(buf, j, "line break in quoted string"),
                        Some(&c) => {
                            s.push(c);
                            j += 1;
                        }
                    }
                }
                line_bytes += j + 1 - i;
                i = j + 1;
                tokens.push(Token::Str(s));
            }
            b'{' => {
                let mut j = i + 1;
                let mut n: usize = 0;
                let mut digits = 0;
                while let Some(&d) = buf.get(j) {
                    if !d.is_ascii_digit() {
                        break;
                    }
                    n = match n.checked_mul(10).and_then(|n| n.checked_add(usize::from(d - b'0'))) {
                        Some(n) => n,
                        None => return Parse::Fatal("literal too large".into()),
                    };
                    digits += 1;
                    j += 1;
                    if digits > 12 {
                        return Parse::Fatal("literal too large".into());
                    }
                }
                if buf.get(j) == Some(&b'+') {
                    j += 1;
                }
                match (buf.get(j), buf.get(j + 1), buf.get(j + 2)) {
                    (None, _, _) | (Some(b'}'), None, _) | (Some(b'}'), Some(b'\r'), None) => return Parse::NeedMore,
                    (Some(b'}'), Some(b'\r'), Some(b'\n')) if digits > 0 => j += 3,
                    (Some(b'}'), Some(b'\n'), _) if digits > 0 => j += 2,
                    _ => return skip_line(buf, i, "bad literal"),
                }
                if n > max_literal {
                    return Parse::Fatal(format!("literal of {n} octets is over the limit of {max_literal}"));
                }
                if buf.len() < j + n {
                    return Parse::NeedMore;
                }
                tokens.push(Token::Str(buf[j..j + n].to_vec()));
                line_bytes += j - i;
                i = j + n;
            }
            _ => {
                let mut j = i;
                while let Some(&c) = buf.get(j) {
                    if matches!(c, b' ' | b'\r' | b'\n' | b'"' | b'{' | b'(' | b')') || !(0x20..0x7f).contains(&c) {
                        break;
                    }
                    j += 1;
                }
                if j == i {
                    return skip_line(buf, i, "unexpected character");
                }
                if j == buf.len() {
                    return if j - i > max_line { Parse::Fatal("line too long".into()) } else { Parse::NeedMore };
                }
                tokens.push(Token::Atom(String::from_utf8_lossy(&buf[i..j]).into_owned()));
                line_bytes += j - i;
                i = j;
            }
        }
    }
}

fn literal_bytes(tokens: &[Token]) -> usize {
    tokens.iter().map(|t| if let Token::Str(s) = t { s.len() } else { 0 }).sum()
}

fn done(tokens: Vec<Token>, consumed: usize) -> Parse {
    if tokens.is_empty() {
        return Parse::Error { message: "empty command".into(), consumed };
    }
    Parse::Done { tokens, consumed }
}

/// A syntax error at `at`: the rest of the line is skipped (once it is there).
fn skip_line(buf: &[u8], at: usize, message: &str) -> Parse {
    match buf[at.min(buf.len())..].iter().position(|&b| b == b'\n') {
        Some(p) => Parse::Error { message: message.into(), consumed: at + p + 1 },
        None => Parse::NeedMore,
    }
}

/// A string for a response: quoted when it is short and simple, else a literal.
pub fn string(s: &[u8]) -> Vec<u8> {
    let simple = s.len() <= 1024 && s.iter().all(|&b| b != b'\r' && b != b'\n' && b != 0);
    let mut out = Vec::with_capacity(s.len() + 8);
    if simple && std::str::from_utf8(s).is_ok() {
        out.push(b'"');
        for &b in s {
            if b == b'"' || b == b'\\' {
                out.push(b'\\');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(format!("{{{}}}\r\n", s.len()).as_bytes());
        out.extend_from_slice(s);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(buf: &[u8]) -> Vec<Token> {
        match parse_command(buf, 1000, 1000) {
            Parse::Done { tokens, consumed } => {
                assert_eq!(consumed, buf.len());
                tokens
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn commands() {
        assert_eq!(ok(b"NOOP\r\n"), [Token::Atom("NOOP".into())]);
        assert_eq!(
            ok(b"PUTSCRIPT \"a \\\"b\\\"\" {4+}\r\nkeep\r\n"),
            [Token::Atom("PUTSCRIPT".into()), Token::Str(b"a \"b\"".to_vec()), Token::Str(b"keep".to_vec())]
        );
        assert_eq!(
            ok(b"X {2}\r\nab 12\n"),
            [Token::Atom("X".into()), Token::Str(b"ab".to_vec()), Token::Atom("12".into())]
        );
        assert_eq!(parse_command(b"NOOP", 1000, 1000), Parse::NeedMore);
        assert_eq!(parse_command(b"X {5+}\r\nab", 1000, 1000), Parse::NeedMore);
        assert!(matches!(parse_command(b"X {5000+}\r\n", 1000, 1000), Parse::Fatal(_)));
        assert!(matches!(parse_command(b"X \"a\\x\"\r\nNOOP\r\n", 1000, 1000), Parse::Error { consumed: 9, .. }));
        assert!(matches!(parse_command(&[b'A'; 2000], 1000, 1000), Parse::Fatal(_)));
        assert_eq!(string(b"a\"b"), b"\"a\\\"b\"");
        assert_eq!(string(b"a\r\nb"), b"{4}\r\na\r\nb");
    }
}
