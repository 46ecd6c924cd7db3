//! Entry points of the fuzz targets (`fuzz/`, cargo-fuzz). They live here so
//! that `cargo test` replays the seed corpus and every past crash through the
//! very same code (`tests/fuzz_replay.rs`). Neither may panic, whatever the
//! input; both are bounded by the default [`Limits`](crate::Limits).

use crate::interpret::{Host, Scale, ScoreHeader};
use crate::{Compiler, Envelope, IncludeLocation, Message};

/// The message [`compile_and_run`] filters: multipart with a nested message,
/// spam/virus headers, a list header, and encoded words.
pub const MESSAGE: &[u8] = b"Return-Path: <sender@example.org>\r\n\
From: \"Sender\" <sender+tag@example.org>\r\n\
To: me@example.com, other@example.net\r\n\
Cc: =?utf-8?q?J=C3=B6rg?= <joerg@example.com>\r\n\
Subject: [list] =?utf-8?b?aMOpbGxv?= world\r\n\
Date: Tue, 1 Apr 1997 09:06:31 -0800\r\n\
Message-ID: <m1@example.org>\r\n\
List-Id: <list.example.org>\r\n\
X-Spam-Score: 6.5\r\n\
X-Virus-Status: Clean\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"outer\"\r\n\
\r\n\
preamble\r\n\
--outer\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
Hello, this is the text part.\r\n\
--outer\r\n\
Content-Type: text/html\r\n\
\r\n\
<p>Hello <b>HTML</b></p>\r\n\
--outer\r\n\
Content-Type: application/zip; name=\"a.zip\"\r\n\
Content-Disposition: attachment; filename=\"a.zip\"\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
UEsDBAoAAAAAAA==\r\n\
--outer\r\n\
Content-Type: message/rfc822\r\n\
\r\n\
Subject: inner\r\n\
Content-Type: text/plain\r\n\
\r\n\
inner body\r\n\
--outer--\r\n";

/// Target `sieve_parse`: lex, parse and validate arbitrary bytes.
pub fn compile(data: &[u8]) {
    let src = String::from_utf8_lossy(data);
    let _ = Compiler::default().compile(&src);
}

/// Target `sieve_run`: compile, and when the script is valid run it on
/// [`MESSAGE`] with a host that answers everything (mailboxes exist, includes
/// load the same script, spamtest/virustest configured).
pub fn compile_and_run(data: &[u8]) {
    let src = String::from_utf8_lossy(data);
    let compiler = Compiler::default();
    let Ok(script) = compiler.compile(&src) else { return };
    let msg = Message::parse(MESSAGE);
    let env = Envelope::new("sender@example.org", "me+box@example.com");
    let mut host = FuzzHost { source: src.into_owned(), seen: Vec::new() };
    let _ = crate::run(&compiler, &script, &msg, &env, &mut host);
}

struct FuzzHost {
    source: String,
    seen: Vec<String>,
}

impl Host for FuzzHost {
    fn mailbox_exists(&self, mailbox: &str) -> bool {
        mailbox.len() % 2 == 0
    }
    fn special_use_exists(&self, _mailbox: Option<&str>, special_use: &str) -> bool {
        special_use.eq_ignore_ascii_case("\\Junk")
    }
    fn duplicate(&mut self, handle: &str, id: &str, _period: u64, _last: bool) -> bool {
        let key = format!("{handle}\0{id}");
        if self.seen.contains(&key) {
            return true;
        }
        self.seen.push(key);
        false
    }
    fn include(&mut self, _location: IncludeLocation, name: &str) -> Result<Option<String>, String> {
        Ok(if name == "missing" { None } else { Some(self.source.clone()) })
    }
    fn environment(&self, name: &str) -> Option<String> {
        (name == "domain").then(|| "example.com".into())
    }
    fn spamtest(&self) -> Option<ScoreHeader> {
        ScoreHeader::parse("X-Spam-Score", Scale::Range { min: 0.0, max: 10.0 }).ok()
    }
    fn virustest(&self) -> Option<ScoreHeader> {
        let levels = ["clean", "replaced", "cured", "suspicious", "infected"].map(String::from).to_vec();
        ScoreHeader::parse("X-Virus-Status: ^(\\w+)", Scale::Levels(levels)).ok()
    }
    fn user_addresses(&self) -> Vec<String> {
        vec!["me@example.com".into()]
    }
}
