//! The imaptest-like mixed client model.
//!
//! Each client loops over sessions: connect, LOGIN (users round-robin),
//! LIST, STATUS, SELECT, then a seeded random run of FETCH (flags, envelopes,
//! bodies), STORE, APPEND, EXPUNGE, IDLE, and LOGOUT. It keeps its own view
//! of the selected mailbox (sequence → UID, EXISTS) and, when it is the only
//! client of its user, of the flags it stored; responses that contradict the
//! view are protocol errors.

use crate::imap::{appenduid, fetch_uid_flags, seq_resp, Client, Reply, Status};
use crate::stats::{print_table, summarize, CmdStats, Recorder};
use anyhow::{bail, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub struct Opts {
    pub host: String,
    pub port: u16,
    pub user_pattern: String,
    pub users: usize,
    pub password: String,
    pub clients: usize,
    pub seconds: u64,
    pub max_ops: u64,
    pub seed: u64,
    pub prefill: usize,
    pub json: bool,
}

pub fn user_name(pattern: &str, i: usize) -> String {
    pattern.replace("%d", &(i + 1).to_string())
}

/// Flags this client controls. `\Seen` is avoided (body fetches use PEEK).
const FLAGS: &[&str] = &["\\Flagged", "\\Answered", "$Bench", "$Label1"];

/// The client's view of its selected mailbox.
#[derive(Default)]
struct View {
    /// UID per sequence number (0 = not yet known).
    uids: Vec<u32>,
    /// Whether this client is the only one using the account (then flag
    /// state must match exactly what it stored).
    exclusive: bool,
}

struct ClientState {
    id: usize,
    rng: ChaCha8Rng,
    rec: Recorder,
    ops: u64,
    /// Expected controlled flags per UID of the current session's account.
    flags: HashMap<u32, HashSet<&'static str>>,
    /// The same per account, kept across sessions (UIDs are per mailbox).
    flags_by_user: HashMap<String, HashMap<u32, HashSet<&'static str>>>,
}

impl ClientState {
    fn err(&mut self, what: String) {
        self.rec.error(format!("client {}: {what}", self.id));
    }

    /// Applies untagged EXISTS/EXPUNGE/FETCH to the view, checking them.
    fn apply(&mut self, view: &mut View, r: &Reply, cmd: &str) {
        for l in &r.untagged {
            let Some((n, rest)) = seq_resp(&l.text) else { continue };
            let word = rest.split(' ').next().unwrap_or("").to_ascii_uppercase();
            match word.as_str() {
                "EXISTS" => {
                    let n = n as usize;
                    if n < view.uids.len() {
                        self.err(format!("{cmd}: EXISTS went backwards {} -> {n} without EXPUNGE", view.uids.len()));
                        view.uids.truncate(n);
                    } else {
                        view.uids.resize(n, 0);
                    }
                }
                "EXPUNGE" => {
                    let n = n as usize;
                    if n == 0 || n > view.uids.len() {
                        self.err(format!("{cmd}: EXPUNGE {n} beyond EXISTS {}", view.uids.len()));
                    } else {
                        let uid = view.uids.remove(n - 1);
                        self.flags.remove(&uid);
                    }
                }
                "FETCH" => {
                    let n = n as usize;
                    if n == 0 || n > view.uids.len() {
                        self.err(format!("{cmd}: FETCH for {n} beyond EXISTS {}", view.uids.len()));
                        continue;
                    }
                    let (uid, flags) = fetch_uid_flags(rest);
                    if let Some(uid) = uid {
                        let known = view.uids[n - 1];
                        if known != 0 && known != uid {
                            self.err(format!("{cmd}: seq {n} is UID {uid}, view had {known}"));
                        }
                        view.uids[n - 1] = uid;
                        if let (Some(got), true) = (flags, view.exclusive) {
                            if !self.flags.contains_key(&uid) {
                                // First sight: what the server has is the baseline.
                                let base: HashSet<&'static str> = FLAGS
                                    .iter()
                                    .copied()
                                    .filter(|f| got.iter().any(|g| g.eq_ignore_ascii_case(f)))
                                    .collect();
                                self.flags.insert(uid, base);
                                continue;
                            }
                            if let Some(exp) = self.flags.get(&uid) {
                                let got: HashSet<String> = got.iter().map(|f| f.to_ascii_lowercase()).collect();
                                for f in FLAGS {
                                    let want = exp.contains(f);
                                    let has = got.contains(&f.to_ascii_lowercase());
                                    if want != has {
                                        self.err(format!(
                                            "{cmd}: UID {uid} flag {f} is {has}, stored {want} (got {got:?})"
                                        ));
                                        break;
                                    }
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// Runs a timed command; unexpected NO/BAD counts as an error.
    async fn timed(&mut self, c: &mut Client, view: &mut View, name: &'static str, cmd: &str) -> Result<Reply> {
        let t = Instant::now();
        let r = c.cmd(cmd).await?;
        let d = t.elapsed();
        if r.status != Status::Ok {
            self.err(format!("{name}: {cmd} -> {:?} {}", r.status, r.text));
        } else {
            self.rec.record(name, d);
            self.ops += 1;
        }
        self.apply(view, &r, name);
        Ok(r)
    }

    fn known_uids(view: &View) -> Vec<u32> {
        view.uids.iter().copied().filter(|&u| u != 0).collect()
    }
}

struct Shared {
    opts: Opts,
    corpus: Vec<Vec<u8>>,
    deadline: Instant,
    ops: std::sync::atomic::AtomicU64,
}

impl Shared {
    fn done(&self) -> bool {
        Instant::now() >= self.deadline
            || (self.opts.max_ops > 0 && self.ops.load(std::sync::atomic::Ordering::Relaxed) >= self.opts.max_ops)
    }
}

async fn session(sh: &Shared, st: &mut ClientState, user: &str, exclusive: bool) -> Result<()> {
    st.flags = st.flags_by_user.remove(user).unwrap_or_default();
    let r = session_inner(sh, st, user, exclusive).await;
    let flags = std::mem::take(&mut st.flags);
    if r.is_ok() {
        st.flags_by_user.insert(user.to_string(), flags);
    }
    r
}

async fn session_inner(sh: &Shared, st: &mut ClientState, user: &str, exclusive: bool) -> Result<()> {
    let o = &sh.opts;
    let mut view = View { exclusive, ..View::default() };
    let t = Instant::now();
    let mut c = Client::connect(&o.host, o.port).await?;
    let r = c.cmd(&format!("LOGIN {} {}", crate::imap::quote(user), crate::imap::quote(&o.password))).await?;
    if !r.ok() {
        st.err(format!("LOGIN {user}: {:?} {}", r.status, r.text));
        return Ok(());
    }
    st.rec.record("LOGIN", t.elapsed());
    st.ops += 1;
    c.set_caps(&r);
    if c.caps.is_empty() {
        let r = c.cmd("CAPABILITY").await?;
        c.set_caps(&r);
    }
    if st.rng.gen_bool(0.5) {
        st.timed(&mut c, &mut view, "LIST", "LIST \"\" \"*\"").await?;
    }
    if st.rng.gen_bool(0.5) {
        st.timed(&mut c, &mut view, "STATUS", "STATUS INBOX (MESSAGES UIDNEXT UNSEEN)").await?;
    }
    let r = st.timed(&mut c, &mut view, "SELECT", "SELECT INBOX").await?;
    if !r.ok() {
        return Ok(());
    }
    // Resync: all UIDs and flags, as a client does after SELECT.
    st.timed(&mut c, &mut view, "FETCH_FLAGS", "UID FETCH 1:* (FLAGS)").await?;
    if exclusive {
        // Flags expected for UIDs that no longer exist are forgotten.
        let present: HashSet<u32> = view.uids.iter().copied().collect();
        st.flags.retain(|u, _| present.contains(u));
    }
    let n_ops = st.rng.gen_range(5..=15);
    for _ in 0..n_ops {
        if sh.done() {
            break;
        }
        let exists = view.uids.len();
        let target = o.prefill.max(20);
        let mut w_append = 10;
        let mut w_expunge = 10;
        if exists < target / 2 {
            w_expunge = 0;
            w_append = 30;
        } else if exists > target * 3 / 2 {
            w_append = 0;
            w_expunge = 30;
        }
        let weights = [
            ("FETCH_FLAGS", 5),
            ("FETCH_ENV", 20),
            ("FETCH_BODY", 25),
            ("STORE", 20),
            ("APPEND", w_append),
            ("EXPUNGE", w_expunge),
            ("IDLE", 4),
            ("NOOP", 3),
        ];
        let total: u32 = weights.iter().map(|w| w.1).sum();
        let mut pick = st.rng.gen_range(0..total);
        let mut op = "NOOP";
        for (name, w) in weights {
            if pick < w {
                op = name;
                break;
            }
            pick -= w;
        }
        let uids = ClientState::known_uids(&view);
        if uids.is_empty() && matches!(op, "FETCH_BODY" | "STORE" | "EXPUNGE" | "FETCH_ENV") {
            op = "APPEND";
        }
        match op {
            "FETCH_FLAGS" => {
                st.timed(&mut c, &mut view, "FETCH_FLAGS", "UID FETCH 1:* (FLAGS)").await?;
            }
            "FETCH_ENV" => {
                let n = view.uids.len();
                let lo = n.saturating_sub(st.rng.gen_range(5..30)).max(1);
                let cmd = format!("FETCH {lo}:{n} (UID RFC822.SIZE FLAGS INTERNALDATE ENVELOPE BODYSTRUCTURE)");
                let r = st.timed(&mut c, &mut view, "FETCH_ENV", &cmd).await?;
                let fetched = r.untagged.iter().filter(|l| l.text.contains(" FETCH (")).count();
                if r.ok() && fetched < n - lo + 1 {
                    st.err(format!("FETCH_ENV {lo}:{n}: only {fetched} FETCH responses"));
                }
            }
            "FETCH_BODY" => {
                let uid = uids[st.rng.gen_range(0..uids.len())];
                let r = st.timed(&mut c, &mut view, "FETCH_BODY", &format!("UID FETCH {uid} (BODY.PEEK[])")).await?;
                // Another client may have expunged it if the account is shared.
                if r.ok() && exclusive && !r.untagged.iter().any(|l| l.text.contains("FETCH") && !l.lits.is_empty()) {
                    st.err(format!("FETCH_BODY UID {uid}: no body returned"));
                }
            }
            "STORE" => {
                let k = st.rng.gen_range(1..=3.min(uids.len()));
                let start = st.rng.gen_range(0..uids.len());
                let set: Vec<u32> = (0..k).map(|i| uids[(start + i) % uids.len()]).collect();
                let f = FLAGS[st.rng.gen_range(0..FLAGS.len())];
                let add = st.rng.gen_bool(0.6);
                let set_s: Vec<String> = set.iter().map(|u| u.to_string()).collect();
                let cmd = format!("UID STORE {} {}FLAGS ({f})", set_s.join(","), if add { "+" } else { "-" });
                // Expectation first, so that the FETCH in the reply is checked.
                // Servers may omit the FETCH for a message whose flags do not
                // change (Dovecot does), so only changes require a reply.
                let mut changes = 0;
                if exclusive {
                    for &u in &set {
                        let e = st.flags.entry(u).or_default();
                        if e.contains(f) != add {
                            changes += 1;
                        }
                        if add {
                            e.insert(f);
                        } else {
                            e.remove(f);
                        }
                    }
                }
                let r = st.timed(&mut c, &mut view, "STORE", &cmd).await?;
                if r.ok() && exclusive {
                    let replies = r.untagged.iter().filter(|l| l.text.contains(" FETCH (")).count();
                    if replies < changes {
                        st.err(format!(
                            "STORE {}: {replies} FETCH replies for {changes} changed of {} messages",
                            set_s.join(","),
                            set.len()
                        ));
                    }
                }
            }
            "APPEND" => {
                let m = &sh.corpus[st.rng.gen_range(0..sh.corpus.len())];
                let flags = if st.rng.gen_bool(0.3) { "\\Seen" } else { "" };
                let t = Instant::now();
                let r = c.append("INBOX", flags, m).await?;
                let d = t.elapsed();
                if !r.ok() {
                    st.err(format!("APPEND: {:?} {}", r.status, r.text));
                } else {
                    st.rec.record("APPEND", d);
                    st.ops += 1;
                    if c.has_cap("UIDPLUS") && appenduid(&r.text).is_none() {
                        st.err(format!("APPEND: no APPENDUID in {}", r.text));
                    }
                }
                let before = view.uids.len();
                st.apply(&mut view, &r, "APPEND");
                if let Some(uid) = appenduid(&r.text) {
                    if exclusive {
                        st.flags.insert(uid, HashSet::new());
                    }
                    // The server may report EXISTS now or at the next command.
                    if view.uids.len() > before {
                        if let Some(last) = view.uids.last_mut() {
                            if *last == 0 {
                                *last = uid;
                            }
                        }
                    }
                }
            }
            "EXPUNGE" => {
                let uid = uids[st.rng.gen_range(0..uids.len())];
                st.timed(&mut c, &mut view, "STORE", &format!("UID STORE {uid} +FLAGS.SILENT (\\Deleted)")).await?;
                let before = view.uids.len();
                let r = st.timed(&mut c, &mut view, "EXPUNGE", "EXPUNGE").await?;
                let expunged = r.untagged.iter().filter(|l| l.text.ends_with(" EXPUNGE")).count();
                if r.ok() && exclusive && expunged != 1 {
                    st.err(format!("EXPUNGE of UID {uid}: {expunged} EXPUNGE responses (EXISTS {before})"));
                }
            }
            "IDLE" => {
                let t = Instant::now();
                let (tag, pre) = c.idle_start().await?;
                let d1 = t.elapsed();
                let pre = Reply { status: Status::Ok, text: String::new(), untagged: pre };
                st.apply(&mut view, &pre, "IDLE");
                tokio::time::sleep(Duration::from_millis(st.rng.gen_range(10..50))).await;
                let t = Instant::now();
                let r = c.idle_done(&tag).await?;
                let d2 = t.elapsed();
                if r.ok() {
                    st.rec.record("IDLE", d1 + d2);
                    st.ops += 1;
                } else {
                    st.err(format!("IDLE: {:?} {}", r.status, r.text));
                }
                st.apply(&mut view, &r, "IDLE");
            }
            _ => {
                st.timed(&mut c, &mut view, "NOOP", "NOOP").await?;
            }
        }
        sh.ops.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    let t = Instant::now();
    let r = c.cmd("LOGOUT").await?;
    if r.ok() {
        st.rec.record("LOGOUT", t.elapsed());
        st.ops += 1;
    } else {
        st.err(format!("LOGOUT: {:?} {}", r.status, r.text));
    }
    Ok(())
}

/// Makes sure every user's INBOX holds at least `prefill` messages (untimed).
pub async fn prefill(o: &Opts, corpus: &[Vec<u8>]) -> Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(o.seed ^ 0x5eed);
    let mut tasks = tokio::task::JoinSet::new();
    let corpus = Arc::new(corpus.to_vec());
    for u in 0..o.users {
        let o = o.clone();
        let corpus = corpus.clone();
        let picks: Vec<usize> = (0..o.prefill).map(|_| rng.gen_range(0..corpus.len())).collect();
        tasks.spawn(async move {
            let user = user_name(&o.user_pattern, u);
            let mut c = Client::login(&o.host, o.port, &user, &o.password).await?;
            let r = c.cmd("SELECT INBOX").await?;
            let exists = r
                .untagged
                .iter()
                .filter_map(|l| seq_resp(&l.text).filter(|(_, w)| w.eq_ignore_ascii_case("EXISTS")).map(|(n, _)| n))
                .last()
                .unwrap_or(0) as usize;
            for &p in picks.iter().skip(exists) {
                let r = c.append("INBOX", "", &corpus[p]).await?;
                if !r.ok() {
                    bail!("prefill APPEND for {user}: {:?} {}", r.status, r.text);
                }
            }
            let _ = c.logout().await;
            Ok::<(), anyhow::Error>(())
        });
        while tasks.len() >= 8 {
            tasks.join_next().await.unwrap()??;
        }
    }
    while let Some(r) = tasks.join_next().await {
        r??;
    }
    Ok(())
}

#[derive(Serialize)]
pub struct MixedResult {
    pub workload: &'static str,
    pub host: String,
    pub port: u16,
    pub clients: usize,
    pub users: usize,
    pub seconds: f64,
    pub seed: u64,
    pub total_ops: u64,
    pub ops_per_sec: f64,
    pub protocol_errors: u64,
    pub io_errors: u64,
    pub error_samples: Vec<String>,
    pub commands: BTreeMap<String, CmdStats>,
}

pub async fn run(o: Opts, corpus: Vec<Vec<u8>>) -> Result<MixedResult> {
    if o.prefill > 0 {
        let t = Instant::now();
        prefill(&o, &corpus).await?;
        eprintln!("prefill: {} users × ≥{} messages in {:.1}s", o.users, o.prefill, t.elapsed().as_secs_f64());
    }
    let start = Instant::now();
    let sh = Arc::new(Shared {
        opts: o.clone(),
        corpus,
        deadline: start + Duration::from_secs(o.seconds),
        ops: std::sync::atomic::AtomicU64::new(0),
    });
    let mut tasks = tokio::task::JoinSet::new();
    for id in 0..o.clients {
        let sh = sh.clone();
        tasks.spawn(async move {
            let mut st = ClientState {
                id,
                rng: ChaCha8Rng::seed_from_u64(sh.opts.seed.wrapping_mul(1_000_003).wrapping_add(id as u64)),
                rec: Recorder::default(),
                ops: 0,
                flags: HashMap::new(),
                flags_by_user: HashMap::new(),
            };
            let mut io_errors = 0u64;
            let users = sh.opts.users.max(1);
            // Exclusive when no other client maps to the same user.
            let exclusive = sh.opts.clients <= users;
            let mut k = 0usize;
            while !sh.done() {
                let user = user_name(&sh.opts.user_pattern, (id + k * sh.opts.clients) % users);
                k += 1;
                if let Err(e) = session(&sh, &mut st, &user, exclusive).await {
                    io_errors += 1;
                    st.err(format!("connection error: {e:#}"));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                if io_errors > 1000 {
                    break;
                }
            }
            (st.rec, io_errors)
        });
    }
    let mut rec = Recorder::default();
    let mut io_errors = 0;
    while let Some(r) = tasks.join_next().await {
        let (r, e) = r?;
        rec.merge(r);
        io_errors += e;
    }
    let secs = start.elapsed().as_secs_f64();
    let commands = summarize(&rec, secs);
    let total_ops: u64 = commands.values().map(|c| c.count).sum();
    Ok(MixedResult {
        workload: "imap-mixed",
        host: o.host.clone(),
        port: o.port,
        clients: o.clients,
        users: o.users,
        seconds: secs,
        seed: o.seed,
        total_ops,
        ops_per_sec: total_ops as f64 / secs,
        protocol_errors: rec.errors - io_errors,
        io_errors,
        error_samples: rec.error_samples,
        commands,
    })
}

pub fn print(r: &MixedResult) {
    println!(
        "imap mixed: {}:{} clients={} users={} {:.1}s  total {} ops, {:.1} ops/s, protocol errors {}, io errors {}",
        r.host, r.port, r.clients, r.users, r.seconds, r.total_ops, r.ops_per_sec, r.protocol_errors, r.io_errors
    );
    print_table(&r.commands);
    for e in &r.error_samples {
        println!("  error: {e}");
    }
}
