//! Parser: tokens into the generic tree (RFC 5228 §8.2).

use crate::ast::{RawArg, RawCommand, RawTest};
use crate::error::{CompileError, Pos};
use crate::lexer::{tokenize, Tok, Token};

struct Parser {
    toks: Vec<Token>,
    i: usize,
    max_nesting: usize,
    end: Pos,
}

/// Parses a script into generic commands.
pub fn parse(src: &str, max_nesting: usize) -> Result<Vec<RawCommand>, CompileError> {
    let toks = tokenize(src)?;
    let end = end_pos(src);
    let mut p = Parser { toks, i: 0, max_nesting, end };
    let cmds = p.commands(0)?;
    if let Some(t) = p.toks.get(p.i) {
        return Err(CompileError::new(t.pos, format!("unexpected {}", t.tok.describe())));
    }
    Ok(cmds)
}

fn end_pos(src: &str) -> Pos {
    let mut line = 1;
    let mut col = 1;
    for c in src.chars() {
        if c == '\n' {
            line += 1;
            col = 1;
        } else {
            col += 1;
        }
    }
    Pos { line, col }
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i).map(|t| &t.tok)
    }
    fn pos(&self) -> Pos {
        self.toks.get(self.i).map(|t| t.pos).unwrap_or(self.end)
    }
    fn next(&mut self) -> Option<Token> {
        let t = self.toks.get(self.i).cloned();
        if t.is_some() {
            self.i += 1;
        }
        t
    }
    fn found(&self) -> String {
        match self.peek() {
            Some(t) => t.describe(),
            None => "end of script".into(),
        }
    }

    fn commands(&mut self, depth: usize) -> Result<Vec<RawCommand>, CompileError> {
        if depth > self.max_nesting {
            return Err(CompileError::new(
                self.pos(),
                format!("blocks nested too deeply (limit {})", self.max_nesting),
            ));
        }
        let mut out = Vec::new();
        while let Some(tok) = self.peek() {
            match tok {
                Tok::RBrace => break,
                Tok::Ident(_) => out.push(self.command(depth)?),
                _ => return Err(CompileError::new(self.pos(), format!("expected a command, found {}", self.found()))),
            }
        }
        Ok(out)
    }

    fn command(&mut self, depth: usize) -> Result<RawCommand, CompileError> {
        let (name, pos) = match self.next() {
            Some(Token { tok: Tok::Ident(n), pos }) => (n, pos),
            _ => return Err(CompileError::new(self.pos(), "expected a command")),
        };
        let args = self.arguments()?;
        let (tests, test_list) = self.tests(depth)?;
        let block = match self.peek() {
            Some(Tok::Semi) => {
                self.i += 1;
                None
            }
            Some(Tok::LBrace) => {
                self.i += 1;
                let cmds = self.commands(depth + 1)?;
                match self.next() {
                    Some(Token { tok: Tok::RBrace, .. }) => Some(cmds),
                    _ => return Err(CompileError::new(pos, format!("block of `{name}` is not closed with `}}`"))),
                }
            }
            _ => {
                return Err(CompileError::new(
                    self.pos(),
                    format!("expected `;` or a block after command `{name}`, found {}", self.found()),
                ))
            }
        };
        Ok(RawCommand { name, pos, args, tests, test_list, block })
    }

    fn arguments(&mut self) -> Result<Vec<RawArg>, CompileError> {
        let mut args = Vec::new();
        loop {
            let pos = self.pos();
            match self.peek() {
                Some(Tok::Tag(t)) => {
                    args.push(RawArg::Tag(t.clone(), pos));
                    self.i += 1;
                }
                Some(Tok::Number(n)) => {
                    args.push(RawArg::Number(*n, pos));
                    self.i += 1;
                }
                Some(Tok::Str(s)) => {
                    args.push(RawArg::Str(s.clone(), pos));
                    self.i += 1;
                }
                Some(Tok::LBracket) => {
                    self.i += 1;
                    let mut list = Vec::new();
                    loop {
                        match self.next() {
                            Some(Token { tok: Tok::Str(s), .. }) => list.push(s),
                            _ => {
                                return Err(CompileError::new(
                                    pos,
                                    "a string list must contain strings separated by `,` and end with `]`",
                                ))
                            }
                        }
                        match self.next() {
                            Some(Token { tok: Tok::Comma, .. }) => continue,
                            Some(Token { tok: Tok::RBracket, .. }) => break,
                            _ => {
                                return Err(CompileError::new(
                                    pos,
                                    "a string list must contain strings separated by `,` and end with `]`",
                                ))
                            }
                        }
                    }
                    args.push(RawArg::List(list, pos));
                }
                _ => break,
            }
        }
        Ok(args)
    }

    fn tests(&mut self, depth: usize) -> Result<(Vec<RawTest>, bool), CompileError> {
        match self.peek() {
            Some(Tok::Ident(_)) => Ok((vec![self.test(depth)?], false)),
            Some(Tok::LParen) => {
                let pos = self.pos();
                self.i += 1;
                let mut tests = Vec::new();
                loop {
                    tests.push(self.test(depth)?);
                    match self.next() {
                        Some(Token { tok: Tok::Comma, .. }) => continue,
                        Some(Token { tok: Tok::RParen, .. }) => break,
                        _ => {
                            return Err(CompileError::new(
                                pos,
                                "a test list must contain tests separated by `,` and end with `)`",
                            ))
                        }
                    }
                }
                Ok((tests, true))
            }
            _ => Ok((Vec::new(), false)),
        }
    }

    fn test(&mut self, depth: usize) -> Result<RawTest, CompileError> {
        if depth > self.max_nesting {
            return Err(CompileError::new(self.pos(), format!("tests nested too deeply (limit {})", self.max_nesting)));
        }
        let (name, pos) = match self.next() {
            Some(Token { tok: Tok::Ident(n), pos }) => (n, pos),
            Some(t) => return Err(CompileError::new(t.pos, format!("expected a test, found {}", t.tok.describe()))),
            None => return Err(CompileError::new(self.end, "expected a test, found end of script")),
        };
        let args = self.arguments()?;
        let (tests, test_list) = self.tests(depth + 1)?;
        Ok(RawTest { name, pos, args, tests, test_list })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested() {
        let c = parse(
            "if anyof (not exists [\"From\",\"Date\"], header :contains \"x\" \"y\") { keep; } else { discard; }",
            64,
        )
        .expect("parse");
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].name, "if");
        assert_eq!(c[0].tests[0].name, "anyof");
        assert_eq!(c[0].tests[0].tests.len(), 2);
        assert_eq!(c[1].name, "else");
    }

    #[test]
    fn missing_semicolon() {
        let e = parse("keep;\nstop", 64).unwrap_err();
        assert!(e.message.contains("expected `;`"), "{e}");
        assert_eq!(e.pos.line, 2);
    }

    #[test]
    fn nesting_limit() {
        let s = "if true {".repeat(10) + &"}".repeat(10);
        assert!(parse(&s, 5).is_err());
        assert!(parse(&s, 64).is_ok());
    }

    #[test]
    fn bad_lists() {
        assert!(parse("x [\"a\" \"b\"];", 64).is_err());
        assert!(parse("if anyof(true, ) {}", 64).is_err());
        assert!(parse("if { }", 64).is_ok()); // syntax ok, the validator complains
        assert!(parse("}", 64).is_err());
    }
}
