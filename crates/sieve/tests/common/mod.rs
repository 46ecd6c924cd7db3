#![allow(dead_code)]
use std::collections::{HashMap, HashSet};

pub use sieve::*;

#[derive(Default)]
pub struct TestHost {
    pub mailboxes: HashSet<String>,
    pub special: Vec<(String, String)>,
    pub scripts: HashMap<String, String>,
    pub global_scripts: HashMap<String, String>,
    pub seen: HashSet<String>,
    pub env: HashMap<String, String>,
    pub now: Option<DateTime>,
    pub spam: Option<ScoreHeader>,
    pub virus: Option<ScoreHeader>,
    pub separator: Option<String>,
    pub own: Vec<String>,
}

impl Host for TestHost {
    fn mailbox_exists(&self, m: &str) -> bool {
        self.mailboxes.contains(m)
    }
    fn special_use_exists(&self, mailbox: Option<&str>, su: &str) -> bool {
        self.special.iter().any(|(m, s)| s.eq_ignore_ascii_case(su) && mailbox.is_none_or(|x| x == m))
    }
    fn duplicate(&mut self, handle: &str, id: &str, _period: u64, _last: bool) -> bool {
        !self.seen.insert(format!("{handle}\0{id}"))
    }
    fn include(&mut self, loc: IncludeLocation, name: &str) -> Result<Option<String>, String> {
        Ok(match loc {
            IncludeLocation::Personal => self.scripts.get(name).cloned(),
            IncludeLocation::Global => self.global_scripts.get(name).cloned(),
        })
    }
    fn environment(&self, name: &str) -> Option<String> {
        self.env.get(name).cloned()
    }
    fn now(&self) -> DateTime {
        self.now.unwrap_or(DateTime {
            year: 2024,
            month: 3,
            day: 15,
            hour: 10,
            minute: 30,
            second: 0,
            offset_minutes: 60,
        })
    }
    fn subaddress_separator(&self) -> &str {
        self.separator.as_deref().unwrap_or("+")
    }
    fn spamtest(&self) -> Option<ScoreHeader> {
        self.spam.clone()
    }
    fn virustest(&self) -> Option<ScoreHeader> {
        self.virus.clone()
    }
    fn user_addresses(&self) -> Vec<String> {
        self.own.clone()
    }
}

pub const MSG: &str = "Date: Tue, 1 Apr 1997 09:06:31 -0800 (PST)\r\n\
From: coyote@desert.example.org\r\n\
To: roadrunner@acme.example.com\r\n\
Cc: \"Boss\" <boss@acme.example.com>\r\n\
Subject: I have a present for you\r\n\
X-Caffeine: C8H10N4O2\r\n\
Message-ID: <1234@desert.example.org>\r\n\
\r\n\
Look, I'm sorry about the whole anvil thing, and I really\r\n\
didn't mean to try and drop it on you from the top of the\r\n\
cliff.  I want to try to make it up to you.  I've got some\r\n\
great birdseed over here at my place--top of the line\r\n\
stuff--and if you come by, I'll have it all wrapped\r\n\
up for you.  I'm really sorry for all the problems I've\r\n\
caused for you over the years, but I know we can work this out.\r\n\
--\r\n\
Wile E. Coyote   \"Super Genius\"   coyote@desert.example.org\r\n";

pub fn env() -> Envelope {
    Envelope::new("coyote@desert.example.org", "roadrunner@acme.example.com")
}

pub fn compile(src: &str) -> Result<Script, CompileError> {
    Compiler::default().compile(src)
}

pub fn run_full(src: &str, msg: &str, envl: &Envelope, host: &mut TestHost) -> Result<Outcome, String> {
    let c = Compiler::default();
    let s = c.compile(src).map_err(|e| format!("compile: {e}"))?;
    let m = Message::parse(msg.as_bytes());
    sieve::run(&c, &s, &m, envl, host).map_err(|e| format!("runtime: {e}"))
}

/// Runs and returns the action lines; panics on errors.
pub fn lines_with(src: &str, msg: &str, host: &mut TestHost) -> Vec<String> {
    match run_full(src, msg, &env(), host) {
        Ok(o) => o.lines(),
        Err(e) => panic!("{e}\nscript:\n{src}"),
    }
}

pub fn lines(src: &str, msg: &str) -> Vec<String> {
    lines_with(src, msg, &mut TestHost::default())
}

pub fn on_msg(src: &str) -> Vec<String> {
    lines(src, MSG)
}

pub fn compile_err(src: &str) -> String {
    match compile(src) {
        Ok(_) => panic!("expected a compile error for:\n{src}"),
        Err(e) => e.to_string(),
    }
}

pub fn runtime_err(src: &str, msg: &str) -> String {
    match run_full(src, msg, &env(), &mut TestHost::default()) {
        Ok(o) => panic!("expected a runtime error, got {:?}", o.lines()),
        Err(e) => e,
    }
}

pub fn v(x: &[&str]) -> Vec<String> {
    x.iter().map(|s| s.to_string()).collect()
}
