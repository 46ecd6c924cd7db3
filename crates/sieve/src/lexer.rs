//! Lexer for the Sieve grammar (RFC 5228 §8.1).

use crate::error::{CompileError, Pos};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    Ident(String),
    Tag(String),
    Number(u64),
    Str(String),
    LBracket,
    RBracket,
    LParen,
    RParen,
    LBrace,
    RBrace,
    Comma,
    Semi,
}

impl Tok {
    pub fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("identifier `{s}`"),
            Tok::Tag(s) => format!("tag `:{s}`"),
            Tok::Number(n) => format!("number {n}"),
            Tok::Str(_) => "string".into(),
            Tok::LBracket => "`[`".into(),
            Tok::RBracket => "`]`".into(),
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::LBrace => "`{`".into(),
            Tok::RBrace => "`}`".into(),
            Tok::Comma => "`,`".into(),
            Tok::Semi => "`;`".into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Token {
    pub tok: Tok,
    pub pos: Pos,
}

struct Lexer<'a> {
    src: &'a [u8],
    i: usize,
    line: u32,
    col: u32,
}

impl<'a> Lexer<'a> {
    fn peek(&self) -> Option<u8> {
        self.src.get(self.i).copied()
    }
    fn peek_at(&self, n: usize) -> Option<u8> {
        self.src.get(self.i + n).copied()
    }
    fn bump(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        if c == b'\n' {
            self.line += 1;
            self.col = 1;
        } else if (c & 0xC0) != 0x80 {
            // count characters, not UTF-8 continuation bytes
            self.col += 1;
        }
        Some(c)
    }
    fn pos(&self) -> Pos {
        Pos { line: self.line, col: self.col }
    }
    fn err(&self, pos: Pos, msg: impl Into<String>) -> CompileError {
        CompileError::new(pos, msg)
    }
}

fn utf8(bytes: Vec<u8>, pos: Pos) -> Result<String, CompileError> {
    String::from_utf8(bytes).map_err(|_| CompileError::new(pos, "string is not valid UTF-8"))
}

/// Splits a script into tokens.
pub fn tokenize(src: &str) -> Result<Vec<Token>, CompileError> {
    let mut lx = Lexer { src: src.as_bytes(), i: 0, line: 1, col: 1 };
    let mut out = Vec::new();
    while let Some(c) = lx.peek() {
        let pos = lx.pos();
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => {
                lx.bump();
            }
            b'#' => {
                while let Some(c) = lx.bump() {
                    if c == b'\n' {
                        break;
                    }
                }
            }
            b'/' if lx.peek_at(1) == Some(b'*') => {
                lx.bump();
                lx.bump();
                loop {
                    match lx.bump() {
                        None => return Err(lx.err(pos, "unterminated comment `/* ... */`")),
                        Some(b'*') if lx.peek() == Some(b'/') => {
                            lx.bump();
                            break;
                        }
                        _ => {}
                    }
                }
            }
            b'[' | b']' | b'(' | b')' | b'{' | b'}' | b',' | b';' => {
                lx.bump();
                let tok = match c {
                    b'[' => Tok::LBracket,
                    b']' => Tok::RBracket,
                    b'(' => Tok::LParen,
                    b')' => Tok::RParen,
                    b'{' => Tok::LBrace,
                    b'}' => Tok::RBrace,
                    b',' => Tok::Comma,
                    _ => Tok::Semi,
                };
                out.push(Token { tok, pos });
            }
            b'"' => {
                lx.bump();
                let mut buf = Vec::new();
                loop {
                    match lx.bump() {
                        None => return Err(lx.err(pos, "unterminated quoted string")),
                        Some(b'"') => break,
                        Some(b'\\') => match lx.bump() {
                            None => return Err(lx.err(pos, "unterminated quoted string")),
                            Some(c) => buf.push(c),
                        },
                        Some(b'\r') if lx.peek() == Some(b'\n') => {
                            // normalise CRLF later; keep as CRLF
                            buf.push(b'\r');
                        }
                        Some(b'\n') => {
                            if buf.last() != Some(&b'\r') {
                                buf.push(b'\r');
                            }
                            buf.push(b'\n');
                        }
                        Some(c) => buf.push(c),
                    }
                }
                out.push(Token { tok: Tok::Str(utf8(buf, pos)?), pos });
            }
            b':' => {
                lx.bump();
                let start = lx.i;
                while let Some(c) = lx.peek() {
                    if c.is_ascii_alphanumeric() || c == b'_' {
                        lx.bump();
                    } else {
                        break;
                    }
                }
                if start == lx.i || lx.src[start].is_ascii_digit() {
                    return Err(lx.err(pos, "expected a tag name after `:`"));
                }
                let name = String::from_utf8_lossy(&lx.src[start..lx.i]).to_ascii_lowercase();
                out.push(Token { tok: Tok::Tag(name), pos });
            }
            b'0'..=b'9' => {
                let mut n: u64 = 0;
                while let Some(c @ b'0'..=b'9') = lx.peek() {
                    lx.bump();
                    n = n
                        .checked_mul(10)
                        .and_then(|n| n.checked_add(u64::from(c - b'0')))
                        .ok_or_else(|| lx.err(pos, "number too large"))?;
                }
                let mult: u64 = match lx.peek() {
                    Some(b'K' | b'k') => 1 << 10,
                    Some(b'M' | b'm') => 1 << 20,
                    Some(b'G' | b'g') => 1 << 30,
                    _ => 1,
                };
                if mult > 1 {
                    lx.bump();
                }
                let n = n.checked_mul(mult).ok_or_else(|| lx.err(pos, "number too large"))?;
                if let Some(c) = lx.peek() {
                    if c.is_ascii_alphabetic() || c == b'_' {
                        return Err(lx.err(pos, "invalid number (allowed suffixes: K, M, G)"));
                    }
                }
                out.push(Token { tok: Tok::Number(n), pos });
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = lx.i;
                while let Some(c) = lx.peek() {
                    if c.is_ascii_alphanumeric() || c == b'_' {
                        lx.bump();
                    } else {
                        break;
                    }
                }
                let name = String::from_utf8_lossy(&lx.src[start..lx.i]).to_ascii_lowercase();
                if name == "text" && lx.peek() == Some(b':') {
                    lx.bump();
                    out.push(Token { tok: Tok::Str(multiline(&mut lx, pos)?), pos });
                } else {
                    out.push(Token { tok: Tok::Ident(name), pos });
                }
            }
            _ => {
                let ch = src.get(lx.i..).and_then(|s| s.chars().next()).unwrap_or('?');
                return Err(lx.err(pos, format!("unexpected character `{ch}`")));
            }
        }
    }
    Ok(out)
}

/// `text:` (SP / HTAB)* (hash-comment / CRLF) *(multiline-literal / multiline-dotstart) "." CRLF
fn multiline(lx: &mut Lexer<'_>, pos: Pos) -> Result<String, CompileError> {
    while let Some(b' ' | b'\t') = lx.peek() {
        lx.bump();
    }
    match lx.peek() {
        Some(b'#') => {
            while let Some(c) = lx.bump() {
                if c == b'\n' {
                    break;
                }
            }
        }
        Some(b'\r') if lx.peek_at(1) == Some(b'\n') => {
            lx.bump();
            lx.bump();
        }
        Some(b'\n') => {
            lx.bump();
        }
        _ => return Err(lx.err(pos, "`text:` must be followed by a line break")),
    }
    let mut buf: Vec<u8> = Vec::new();
    loop {
        if lx.peek().is_none() {
            return Err(lx.err(pos, "unterminated `text:` block (missing a line with a single `.`)"));
        }
        // read one line
        let start = lx.i;
        while let Some(c) = lx.peek() {
            if c == b'\n' {
                break;
            }
            lx.bump();
        }
        let mut line = &lx.src[start..lx.i];
        let had_nl = lx.peek() == Some(b'\n');
        if had_nl {
            lx.bump();
        }
        if line.last() == Some(&b'\r') {
            line = &line[..line.len() - 1];
        }
        if line == b"." {
            break;
        }
        if !had_nl {
            return Err(lx.err(pos, "unterminated `text:` block (missing a line with a single `.`)"));
        }
        if line.first() == Some(&b'.') {
            line = &line[1..];
        }
        buf.extend_from_slice(line);
        buf.extend_from_slice(b"\r\n");
    }
    utf8(buf, pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        tokenize(s).expect("lex").into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn basic_tokens() {
        assert_eq!(
            toks("if size :over 10K { discard; } # c\n/* x */"),
            vec![
                Tok::Ident("if".into()),
                Tok::Ident("size".into()),
                Tok::Tag("over".into()),
                Tok::Number(10240),
                Tok::LBrace,
                Tok::Ident("discard".into()),
                Tok::Semi,
                Tok::RBrace
            ]
        );
    }

    #[test]
    fn quoted_escapes() {
        assert_eq!(toks(r#""a\"b\\c\d""#), vec![Tok::Str("a\"b\\cd".into())]);
    }

    #[test]
    fn multiline_dotstuffing() {
        assert_eq!(
            toks("text: # comment\r\nline1\r\n..dot\r\n.\r\n;"),
            vec![Tok::Str("line1\r\n.dot\r\n".into()), Tok::Semi]
        );
        assert_eq!(toks("text:\nx\n.\n"), vec![Tok::Str("x\r\n".into())]);
    }

    #[test]
    fn numbers() {
        assert_eq!(toks("1M 2G 3"), vec![Tok::Number(1 << 20), Tok::Number(2 << 30), Tok::Number(3)]);
        assert!(tokenize("99999999999999999999").is_err());
        assert!(tokenize("12X").is_err());
    }

    #[test]
    fn errors_have_positions() {
        let e = tokenize("keep;\n  \"abc").unwrap_err();
        assert_eq!((e.pos.line, e.pos.col), (2, 3));
        let e = tokenize("/* open").unwrap_err();
        assert!(e.message.contains("comment"));
        assert!(tokenize("text: x\n.\n").is_err());
        assert!(tokenize("text:\nabc\n").is_err());
    }
}
