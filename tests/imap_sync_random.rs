//! Randomised multi-device consistency (seeded, bounded): three sessions
//! change the same messages concurrently (flags, expunges, moves, appends)
//! while a fourth follows with IDLE and a fifth catches up with QRESYNC
//! afterwards. At the end every session's view equals the store's state,
//! message by message.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{append, message, Raw};

/// `uid → sorted flags`
type State = BTreeMap<u32, Vec<String>>;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn flags_of(line: &str) -> Vec<String> {
    let inner = line.split("FLAGS (").nth(1).map(|r| r.split(')').next().unwrap_or("")).unwrap_or("");
    // \Recent is per session (RFC 3501 §2.3.2): not part of the shared state.
    let mut f: Vec<String> = inner.split_whitespace().filter(|f| *f != "\\Recent").map(String::from).collect();
    f.sort();
    f
}

fn num_after(line: &str, key: &str) -> Option<u64> {
    let rest = &line[line.find(key)? + key.len()..];
    rest.trim_start_matches([' ', '(']).chars().take_while(|c| c.is_ascii_digit()).collect::<String>().parse().ok()
}

/// Expands `1:3,7` into UIDs.
fn expand(set: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for part in set.split(',') {
        let mut ends = part.split(':').map(|n| n.parse::<u32>().unwrap());
        let a = ends.next().unwrap();
        let b = ends.next().unwrap_or(a);
        out.extend(a.min(b)..=a.max(b));
    }
    out
}

/// The store's truth, read by a fresh session.
async fn truth(addr: std::net::SocketAddr) -> State {
    let mut s = Raw::login(addr).await;
    s.cmd("SELECT INBOX").await;
    view_by_fetch(&mut s).await
}

async fn view_by_fetch(s: &mut Raw) -> State {
    let r = s.cmd("UID FETCH 1:* (FLAGS)").await;
    r.iter()
        .filter(|l| l.starts_with("* ") && l.contains(" FETCH "))
        .map(|l| (num_after(l, "UID ").unwrap() as u32, flags_of(l)))
        .collect()
}

/// A client that only listens: its model of the mailbox is built from the
/// untagged responses it receives during IDLE, as a real client's cache is.
struct Follower {
    /// Per sequence number: UID (None until learned) and flags.
    seqs: Vec<(Option<u32>, Vec<String>)>,
}

impl Follower {
    fn apply(&mut self, line: &str) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["*", n, "EXISTS"] => {
                let n: usize = n.parse().unwrap();
                while self.seqs.len() < n {
                    self.seqs.push((None, Vec::new()));
                }
                assert!(self.seqs.len() == n, "EXISTS went backwards without EXPUNGE: {line}");
            }
            ["*", n, "EXPUNGE"] => {
                let n: usize = n.parse().unwrap();
                assert!(n >= 1 && n <= self.seqs.len(), "EXPUNGE of a message we do not have: {line}");
                self.seqs.remove(n - 1);
            }
            ["*", n, "FETCH", ..] => {
                let n: usize = n.parse().unwrap();
                assert!(n >= 1 && n <= self.seqs.len(), "FETCH for a message we do not have: {line}");
                let entry = &mut self.seqs[n - 1];
                if let Some(uid) = num_after(line, "UID ") {
                    entry.0 = Some(uid as u32);
                }
                if line.contains("FLAGS (") {
                    entry.1 = flags_of(line);
                }
            }
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn randomised_devices_converge_on_the_store_state() {
    let server = common::start().await;
    let mut setup = Raw::login(server.addr).await;
    setup.cmd("CREATE Other").await;
    for i in 0..30 {
        append(&mut setup, "INBOX", &message(&format!("r{i}"), "x")).await;
    }

    // The QRESYNC device takes its snapshot and goes away.
    let mut phone = Raw::login(server.addr).await;
    phone.cmd("ENABLE QRESYNC").await;
    let r = phone.cmd("SELECT INBOX").await;
    let validity = r.iter().find_map(|l| num_after(l, "[UIDVALIDITY")).unwrap();
    let modseq = r.iter().find_map(|l| num_after(l, "[HIGHESTMODSEQ")).unwrap();
    let mut phone_cache = view_by_fetch(&mut phone).await;
    phone.cmd("LOGOUT").await;

    // The follower idles on INBOX.
    let mut follower_conn = Raw::login(server.addr).await;
    follower_conn.cmd("SELECT INBOX").await;
    let mut follower = Follower { seqs: Vec::new() };
    for l in follower_conn.cmd("FETCH 1:* (UID FLAGS)").await {
        follower.seqs.push((num_after(&l, "UID ").map(|u| u as u32), flags_of(&l)));
    }
    follower.seqs.retain(|(u, _)| u.is_some());
    follower_conn.send(b"I IDLE\r\n").await;
    assert!(follower_conn.line().await.starts_with("+ "));

    let mut writers = Vec::new();
    for seed in 1..=3u64 {
        let addr = server.addr;
        writers.push(tokio::spawn(async move {
            let mut s = Raw::login(addr).await;
            s.cmd("SELECT INBOX").await;
            let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let flags = ["\\Seen", "\\Flagged", "\\Answered", "$Work", "$Later"];
            for i in 0..120 {
                let uid = 1 + rng.below(45);
                let flag = flags[rng.below(flags.len() as u64) as usize];
                let cmd = match rng.below(10) {
                    0..=3 => format!("UID STORE {uid} +FLAGS ({flag})"),
                    4..=5 => format!("UID STORE {uid} -FLAGS ({flag})"),
                    6 => format!("UID STORE {uid} +FLAGS.SILENT (\\Deleted)"),
                    7 => "EXPUNGE".to_string(),
                    8 => format!("UID MOVE {uid} Other"),
                    _ => {
                        append(&mut s, "INBOX", &message(&format!("w{seed}-{i}"), "y")).await;
                        continue;
                    }
                };
                let r = s.cmd(&cmd).await;
                assert!(r.last().unwrap().starts_with("T OK"), "{cmd}: {r:?}");
            }
            s
        }));
    }
    let mut sessions = Vec::new();
    for w in writers {
        sessions.push(w.await.unwrap());
    }
    let truth = truth(server.addr).await;
    assert!(!truth.is_empty());

    // The follower: everything arrived during IDLE (bounded wait), then DONE.
    let mut quiet = 0;
    while quiet < 3 {
        match follower_conn.maybe_line(Duration::from_millis(300)).await {
            Some(l) => {
                follower.apply(&l);
                quiet = 0;
            }
            None => quiet += 1,
        }
    }
    follower_conn.send(b"DONE\r\n").await;
    for l in follower_conn.until_tagged("I").await {
        follower.apply(&l);
    }
    // Like a real client, it fetches only what it does not know yet: the
    // UIDs and flags of new messages.
    for n in 0..follower.seqs.len() {
        if follower.seqs[n].0.is_none() {
            for l in follower_conn.cmd(&format!("FETCH {} (UID FLAGS)", n + 1)).await {
                follower.apply(&l);
            }
        }
    }
    let followed: State = follower.seqs.iter().map(|(u, f)| (u.expect("UID learned"), f.clone())).collect();
    assert_eq!(followed, truth, "the IDLE follower's view");

    // Writers: after NOOP their views equal the truth too.
    for s in &mut sessions {
        s.cmd("NOOP").await;
        assert_eq!(view_by_fetch(s).await, truth, "a writer's view");
    }

    // The phone comes back: one SELECT (QRESYNC …) brings its cache up to date.
    let mut phone = Raw::login(server.addr).await;
    phone.cmd("ENABLE QRESYNC").await;
    let r = phone.cmd(&format!("SELECT INBOX (QRESYNC ({validity} {modseq}))")).await;
    assert!(r.last().unwrap().starts_with("T OK"), "{r:?}");
    for l in &r {
        if let Some(set) = l.strip_prefix("* VANISHED (EARLIER) ") {
            for uid in expand(set) {
                phone_cache.remove(&uid);
            }
        } else if l.starts_with("* ") && l.contains(" FETCH ") {
            phone_cache.insert(num_after(l, "UID ").unwrap() as u32, flags_of(l));
        }
    }
    assert_eq!(phone_cache, truth, "the QRESYNC device's cache");
}
