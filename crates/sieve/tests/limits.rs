//! Limits and robustness: step limit, include depth, actions, redirects,
//! script size, regex guard, and a no-panic property test over mutated scripts.
mod common;
use common::*;

fn run_limited(src: &str, limits: Limits, host: &mut TestHost) -> Result<Outcome, String> {
    let c = Compiler::new(limits);
    let s = c.compile(src).map_err(|e| format!("compile: {e}"))?;
    let m = Message::parse(MSG.as_bytes());
    sieve::run(&c, &s, &m, &env(), host).map_err(|e| e.to_string())
}

#[test]
fn step_limit_stops_runaway() {
    let src = "if true { keep; }\n".repeat(200);
    let l = Limits { max_steps: 100, ..Limits::default() };
    let e = run_limited(&src, l, &mut TestHost::default()).unwrap_err();
    assert!(e.contains("more than 100 steps"), "{e}");
}

#[test]
fn runaway_include_loop_is_stopped() {
    // mutual recursion a -> b -> a ... is cut by the include depth limit
    let mut h = TestHost::default();
    h.scripts.insert("a".into(), "require \"include\"; include \"b\";".into());
    h.scripts.insert("b".into(), "require \"include\"; include \"a\";".into());
    let e = run_limited("require \"include\"; include \"a\";", Limits::default(), &mut h).unwrap_err();
    assert!(e.contains("nested more than 5 deep"), "{e}");
    // wide fan-out of includes is cut by the include count / step limits
    h.scripts.insert("fan".into(), format!("require \"include\"; {}", "include \"leaf\";".repeat(50)));
    h.scripts.insert("leaf".into(), "keep;".into());
    let src = format!("require \"include\"; {}", "include \"fan\";".repeat(50));
    let e = run_limited(&src, Limits::default(), &mut h).unwrap_err();
    assert!(e.contains("more than 64 includes"), "{e}");
}

#[test]
fn action_and_redirect_limits() {
    let src: String = (0..10).map(|i| format!("redirect \"u{i}@example.org\";")).collect();
    let e = run_limited(&src, Limits::default(), &mut TestHost::default()).unwrap_err();
    assert!(e.contains("more than 4 redirects"), "{e}");
    let src: String = std::iter::once("require \"fileinto\";".to_string())
        .chain((0..10).map(|i| format!("fileinto \"f{i}\";")))
        .collect();
    let l = Limits { max_actions: 5, ..Limits::default() };
    let e = run_limited(&src, l, &mut TestHost::default()).unwrap_err();
    assert!(e.contains("more than 5 actions"), "{e}");
}

#[test]
fn script_size_and_nesting_limits() {
    let l = Limits { max_script_size: 100, ..Limits::default() };
    let e = Compiler::new(l).compile(&"#".repeat(200)).unwrap_err();
    assert!(e.message.contains("larger than the limit"), "{e}");
    let deep = "if true {".repeat(100) + &"}".repeat(100);
    let e = Compiler::default().compile(&deep).unwrap_err();
    assert!(e.message.contains("nested too deeply"), "{e}");
}

#[test]
fn huge_regex_refused() {
    let l = Limits { max_regex_len: 10, ..Limits::default() };
    let e =
        Compiler::new(l).compile("require \"regex\"; if header :regex \"s\" \"aaaaaaaaaaaaaaaaaaaaa\" {}").unwrap_err();
    assert!(e.message.contains("longer than the limit"), "{e}");
    let e = compile_err("require \"regex\"; if header :regex \"s\" \"\\\\w{1000}\\\\w{1000}\" {}");
    assert!(e.contains("too complex"), "{e}");
}

#[test]
fn variable_limits() {
    let src = "require \"variables\"; set \"a\" \"xxxxxxxxxx\"; set \"b\" \"${a}${a}${a}${a}${a}${a}${a}${a}${a}${a}\"; set :length \"n\" \"${b}${b}\"; if string :is \"${n}\" \"50\" { discard; }";
    let l = Limits { max_variable_len: 50, ..Limits::default() };
    let o = run_limited(src, l, &mut TestHost::default()).expect("run");
    assert_eq!(o.lines(), v(&["discard"]));
    let src: String = std::iter::once("require \"variables\";".to_string())
        .chain((0..20).map(|i| format!("set \"v{i}\" \"x\";")))
        .collect();
    let l = Limits { max_variables: 10, ..Limits::default() };
    assert!(run_limited(&src, l, &mut TestHost::default()).unwrap_err().contains("more than 10 variables"));
}

/// xorshift64*: deterministic, no crates.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const SEEDS: &[&str] = &[
    "require [\"fileinto\", \"variables\", \"regex\", \"imap4flags\", \"relational\", \"comparator-i;ascii-numeric\"];\nif header :matches \"subject\" \"*present*\" { set :upper \"x\" \"${1}\"; fileinto :flags \"\\\\Seen\" \"a.${x}\"; }\nelsif header :regex \"from\" \"^(.*)@(.*)$\" { addflag \"${2}\"; keep; } else { discard; }",
    "require [\"vacation-seconds\", \"date\", \"index\", \"relational\"]; if currentdate :value \"ge\" \"date\" \"2024-01-01\" { vacation :seconds 3600 :subject \"away\" :from \"me@example.org\" text:\nI am away.\n..\n.\n; }",
    "require [\"mime\", \"foreverypart\", \"extracttext\", \"variables\", \"body\", \"editheader\"]; foreverypart :name \"p\" { if header :mime :anychild :param \"name\" \"content-type\" \"*.zip\" { extracttext :first 10 \"t\"; addheader \"X-T\" \"${t}\"; break :name \"p\"; } } if body :raw :contains \"x\" { deleteheader :index 1 :last \"x-a\"; }",
    "require [\"include\", \"variables\", \"envelope\", \"subaddress\", \"duplicate\", \"reject\", \"encoded-character\"]; global \"g\"; if envelope :detail \"to\" \"${hex:41}\" { include :optional \"x\"; return; } if duplicate :seconds 10 { reject \"dup\"; }",
    "require [\"spamtestplus\", \"relational\", \"comparator-i;ascii-numeric\", \"virustest\", \"environment\", \"ihave\", \"mailbox\", \"special-use\", \"copy\", \"fileinto\"]; if anyof(spamtest :percent :value \"gt\" :comparator \"i;ascii-numeric\" \"50\", virustest :is \"5\", environment :contains \"name\" \"p\", not ihave \"x\") { fileinto :copy :create :specialuse \"\\\\Junk\" \"Junk\"; } if mailboxexists \"a\" { stop; }",
];

const FRAGMENTS: &[&str] = &[
    " ",
    "\"",
    "[",
    "]",
    "(",
    ")",
    "{",
    "}",
    ";",
    ",",
    ":",
    "*",
    "?",
    "\\",
    "${",
    "}",
    "${1}",
    "text:\n",
    "\n.\n",
    "#",
    "/*",
    "*/",
    ":is",
    ":matches",
    ":regex",
    ":count",
    "\"ge\"",
    "0",
    "99999999999",
    "1G",
    "if",
    "not",
    "allof",
    "anyof",
    "header",
    "stop",
    "keep",
    "${hex:",
    "${unicode:",
    "\u{e9}",
    "\u{0}",
    "include",
    "foreverypart",
    "break",
    "\"(a*)*b\"",
];

#[test]
fn seeds_compile_and_run() {
    for s in SEEDS {
        let script = compile(s).unwrap_or_else(|e| panic!("{e}\n{s}"));
        let m = Message::parse(MSG.as_bytes());
        sieve::run(&Compiler::default(), &script, &m, &env(), &mut TestHost::default()).expect("runs");
    }
}

#[test]
fn no_panic_on_mutated_scripts() {
    let compiler = Compiler::default();
    let messages = [
        Message::parse(MSG.as_bytes()),
        Message::parse(b"Content-Type: multipart/mixed; boundary=B\r\nX-A: 1\r\n\r\n--B\r\nContent-Type: application/zip; name=\"a.zip\"\r\n\r\nPK\r\n--B--\r\n"),
        Message::parse(b"\xff\xfe"),
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut compiled = 0;
    for i in 0..4000 {
        let seed = SEEDS[i % SEEDS.len()];
        let mut s: Vec<u8> = seed.as_bytes().to_vec();
        for _ in 0..(1 + rng.below(3)) {
            let at = rng.below(s.len() + 1);
            match rng.below(4) {
                0 => {
                    let end = (at + rng.below(8)).min(s.len());
                    s.drain(at..end);
                }
                1 => {
                    let f = FRAGMENTS[rng.below(FRAGMENTS.len())];
                    s.splice(at..at, f.bytes());
                }
                2 => {
                    if at < s.len() {
                        s[at] = (rng.next() & 0x7f) as u8;
                    }
                }
                _ => {
                    // duplicate a chunk
                    let end = (at + rng.below(30)).min(s.len());
                    let chunk = s[at..end].to_vec();
                    s.splice(at..at, chunk);
                }
            }
        }
        let src = String::from_utf8_lossy(&s).into_owned();
        if let Ok(script) = compiler.compile(&src) {
            compiled += 1;
            let mut host = TestHost::default();
            host.scripts.insert("x".into(), src.clone());
            for m in &messages {
                let _ = sieve::run(&compiler, &script, m, &env(), &mut host);
            }
        }
    }
    // the mutations must leave a fair share of valid scripts to exercise the interpreter
    assert!(compiled > 150, "only {compiled} mutated scripts compiled");
}
