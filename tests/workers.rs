//! `serve --workers 2` (src/workers.rs), the real binary: both workers serve
//! connections from the shared listeners; an IDLE client on one worker hears
//! of changes made through the other and through LMTP; a killed worker is
//! started again; SIGTERM to the supervisor stops every worker, and so does
//! the supervisor's death; the per-IP and per-account connection limits hold
//! for both workers together.
//!
//! Which worker holds a connection is read from the kernel: the server side
//! of the connection in `/proc/net/tcp` gives the socket's inode, and the
//! worker whose `/proc/<pid>/fd` has that socket holds it.

mod common;

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::Child;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use common::{Lmtp, Raw, PASSWORD, USER};

/// `postfach serve --workers 2`, stopped (SIGTERM, then SIGKILL) when dropped.
struct Supervisor {
    _dir: tempfile::TempDir,
    child: Child,
    imap: SocketAddr,
    lmtp: SocketAddr,
    /// Worker index → PID, from the log.
    workers: HashMap<usize, u32>,
    log: Receiver<String>,
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        signal(self.child.id(), rustix::process::Signal::TERM);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn signal(pid: u32, sig: rustix::process::Signal) {
    let pid = rustix::process::Pid::from_raw(pid as i32).expect("a PID");
    let _ = rustix::process::kill_process(pid, sig);
}

/// `worker started worker=1 pid=123` → (1, 123).
fn worker_started(line: &str) -> Option<(usize, u32)> {
    let rest = line.split("worker started").nth(1)?;
    let field = |name: &str| rest.split(name).nth(1)?.split_whitespace().next()?.parse().ok();
    Some((field("worker=")?, field("pid=")? as u32))
}

impl Supervisor {
    fn start() -> Supervisor {
        Supervisor::start_with("")
    }

    /// With `config` as the data directory's `postfach.toml`.
    fn start_with(config: &str) -> Supervisor {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let out = common::postfach_cli(&data, &["user", "add", USER, "--password-stdin"], PASSWORD.as_bytes());
        assert!(out.status.success(), "{out:?}");
        if !config.is_empty() {
            std::fs::write(data.join("postfach.toml"), config).unwrap();
        }
        let (child, log) = common::serve_process(
            &data,
            &[
                "--workers",
                "2",
                "--imap",
                "127.0.0.1:0",
                "--imaps",
                "none",
                "--lmtp",
                "127.0.0.1:0",
                "--managesieve",
                "none",
            ],
        );
        let (mut imap, mut lmtp, mut workers) = (None, None, HashMap::new());
        let deadline = Instant::now() + Duration::from_secs(30);
        while imap.is_none() || lmtp.is_none() || workers.len() < 2 {
            let line = log.recv_timeout(deadline.saturating_duration_since(Instant::now())).expect("server start log");
            if line.contains("IMAP (STARTTLS) listening") {
                imap = common::logged_addr(&line);
            } else if line.contains("LMTP listening") {
                lmtp = common::logged_addr(&line);
            } else if let Some((i, pid)) = worker_started(&line) {
                workers.insert(i, pid);
            }
        }
        Supervisor { _dir: dir, child, imap: imap.unwrap(), lmtp: lmtp.unwrap(), workers, log }
    }

    /// Waits for the log line telling that worker `index` started again.
    fn restarted(&mut self, index: usize) -> u32 {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let line = self.log.recv_timeout(deadline.saturating_duration_since(Instant::now())).expect("restart log");
            if let Some((i, pid)) = worker_started(&line).filter(|(i, _)| *i == index) {
                self.workers.insert(i, pid);
                return pid;
            }
        }
    }

    /// The worker PID holding the server side of `raw`'s connection.
    fn owner(&self, raw: &Raw) -> Option<u32> {
        let client = raw.io.get_ref().local_addr().unwrap();
        let inode = server_socket_inode(self.imap, client)?;
        self.workers.values().copied().find(|pid| holds_socket(*pid, inode))
    }

    /// Connects until it has a connection on every worker; returns one per
    /// worker PID (and keeps the others open meanwhile: each worker accepts
    /// while the other is busy, but which one wins is up to the scheduler).
    async fn one_per_worker(&self) -> HashMap<u32, Raw> {
        let mut found = HashMap::new();
        let mut extra = Vec::new();
        for _ in 0..300 {
            let raw = Raw::connect(self.imap).await;
            let owner = self.owner(&raw).expect("a worker holds every accepted connection");
            match found.entry(owner) {
                Entry::Occupied(_) => extra.push(raw),
                Entry::Vacant(v) => {
                    v.insert(raw);
                }
            }
            if found.len() == self.workers.len() {
                return found;
            }
        }
        panic!("300 connections all landed on {:?} of {:?}", found.keys(), self.workers);
    }
}

/// `127.0.0.1:143` as `/proc/net/tcp` writes it: `0100007F:008F`.
fn proc_addr(a: SocketAddr) -> String {
    let SocketAddr::V4(v4) = a else { panic!("IPv4 only") };
    format!("{:08X}:{:04X}", u32::from_le_bytes(v4.ip().octets()), v4.port())
}

/// The inode of the server's socket of the connection `server` ← `client`.
fn server_socket_inode(server: SocketAddr, client: SocketAddr) -> Option<u64> {
    let (local, remote) = (proc_addr(server), proc_addr(client));
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    table.lines().skip(1).find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        (f.get(1) == Some(&local.as_str()) && f.get(2) == Some(&remote.as_str())).then(|| f.get(9)?.parse().ok())?
    })
}

fn holds_socket(pid: u32, inode: u64) -> bool {
    let want = format!("socket:[{inode}]");
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else { return false };
    fds.flatten().any(|fd| std::fs::read_link(fd.path()).is_ok_and(|l| l.as_os_str() == want.as_str()))
}

/// Gone, or a zombie nobody reaps (PID 1 of a container may not).
fn process_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat.rsplit(')').next().and_then(|s| s.split_whitespace().next()) == Some("Z"),
    }
}

fn wait_gone(pids: &[u32]) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !pids.iter().all(|p| process_gone(*p)) {
        assert!(Instant::now() < deadline, "workers {pids:?} still running");
        std::thread::sleep(Duration::from_millis(50));
    }
}

async fn login(raw: &mut Raw) {
    let r = raw.cmd(&format!("LOGIN {USER} \"{PASSWORD}\"")).await;
    assert!(r.last().unwrap().starts_with("T OK"), "{r:?}");
}

/// Reads lines until one satisfies `want` (each read bounded by the
/// harness's timeout); returns the lines read.
async fn until(raw: &mut Raw, want: impl Fn(&str) -> bool) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        let l = raw.line().await;
        assert!(!l.is_empty(), "connection closed; got {seen:?}");
        let done = want(&l);
        seen.push(l);
        if done {
            return seen;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_workers_serve_from_the_shared_listener() {
    let sup = Supervisor::start();
    assert_ne!(sup.workers[&0], sup.workers[&1]);
    let conns = sup.one_per_worker().await;
    for (_, mut raw) in conns {
        login(&mut raw).await;
        let r = raw.cmd("SELECT INBOX").await;
        assert!(r.last().unwrap().starts_with("T OK"), "{r:?}");
    }
    // Each worker has its own change notification socket.
    let sockets = std::fs::read_dir(sup._dir.path().join("data/run/notify.d")).unwrap().count();
    assert_eq!(sockets, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_on_one_worker_sees_changes_made_on_the_other_and_by_lmtp() {
    let sup = Supervisor::start();
    let mut conns = sup.one_per_worker().await.into_values();
    let (mut idler, mut writer) = (conns.next().unwrap(), conns.next().unwrap());
    assert_ne!(sup.owner(&idler), sup.owner(&writer));
    for raw in [&mut idler, &mut writer] {
        login(raw).await;
        let r = raw.cmd("SELECT INBOX").await;
        assert!(r.iter().any(|l| l == "* 0 EXISTS"), "{r:?}");
    }
    idler.send(b"I IDLE\r\n").await;
    assert!(idler.line().await.starts_with("+ "));

    // APPEND on the other worker → EXISTS.
    let uid = common::append(&mut writer, "INBOX", &common::message("one", "first")).await;
    until(&mut idler, |l| l == "* 1 EXISTS").await;
    // STORE on the other worker → FETCH FLAGS.
    let r = writer.cmd(&format!("UID STORE {uid} +FLAGS (\\Flagged)")).await;
    assert!(r.last().unwrap().starts_with("T OK"), "{r:?}");
    until(&mut idler, |l| l.starts_with("* 1 FETCH") && l.contains("\\Flagged")).await;
    // LMTP, accepted by either worker → EXISTS.
    let mut lmtp = Lmtp::hello(sup.lmtp).await;
    let replies =
        lmtp.deliver("bob@example.org", &[&format!("{USER}@example.org")], &common::message("two", "x")).await;
    assert!(replies[0].starts_with("250 "), "{replies:?}");
    until(&mut idler, |l| l == "* 2 EXISTS").await;
    // Expunge on the other worker → EXPUNGE.
    let r = writer.cmd(&format!("UID STORE {uid} +FLAGS.SILENT (\\Deleted)")).await;
    assert!(r.last().unwrap().starts_with("T OK"), "{r:?}");
    let r = writer.cmd("EXPUNGE").await;
    assert!(r.last().unwrap().starts_with("T OK"), "{r:?}");
    until(&mut idler, |l| l == "* 1 EXPUNGE").await;
    // A mailbox created on the other worker is listed at once.
    let r = writer.cmd("CREATE Projects").await;
    assert!(r.last().unwrap().starts_with("T OK"), "{r:?}");
    idler.send(b"DONE\r\n").await;
    let r = idler.until_tagged("I").await;
    assert!(r.last().unwrap().starts_with("I OK"), "{r:?}");
    let r = idler.cmd("LIST \"\" Projects").await;
    assert!(r.iter().any(|l| l.starts_with("* LIST") && l.contains("Projects")), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_worker_is_started_again() {
    let mut sup = Supervisor::start();
    let mut conns = sup.one_per_worker().await;
    let (&index, &victim) = sup.workers.iter().next().unwrap();
    let survivor_pid = sup.workers[&(1 - index)];
    let mut survivor = conns.remove(&survivor_pid).unwrap();
    let mut dead = conns.remove(&victim).unwrap();
    signal(victim, rustix::process::Signal::KILL);
    let new_pid = sup.restarted(index);
    assert_ne!(new_pid, victim);
    wait_gone(&[victim]);
    // The killed worker's connection is closed; the other worker's goes on.
    assert_eq!(dead.line().await, "", "a killed worker's connection ends");
    let r = survivor.cmd("NOOP").await;
    assert!(r.last().unwrap().starts_with("T OK"), "{r:?}");
    // New connections are served, by both workers again.
    let conns = sup.one_per_worker().await;
    assert!(conns.contains_key(&new_pid));
    for (_, mut raw) in conns {
        login(&mut raw).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_to_the_supervisor_stops_every_worker() {
    let mut sup = Supervisor::start();
    let mut raw = Raw::connect(sup.imap).await;
    login(&mut raw).await;
    let pids: Vec<u32> = sup.workers.values().copied().collect();
    signal(sup.child.id(), rustix::process::Signal::TERM);
    let deadline = Instant::now() + Duration::from_secs(40);
    let status = loop {
        if let Some(s) = sup.child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "the supervisor did not stop");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    wait_gone(&pids);
    // Every worker removed its notification socket on the way out.
    let left = std::fs::read_dir(sup._dir.path().join("data/run/notify.d")).unwrap().count();
    assert_eq!(left, 0);
    assert!(std::net::TcpStream::connect(sup.imap).is_err(), "nothing listens any more");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_stop_when_the_supervisor_is_killed() {
    let mut sup = Supervisor::start();
    let pids: Vec<u32> = sup.workers.values().copied().collect();
    sup.child.kill().unwrap();
    sup.child.wait().unwrap();
    wait_gone(&pids);
}

/// A connection's greeting, and the connection when it was `* OK`.
async fn greeted(addr: SocketAddr) -> (String, Option<Raw>) {
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut raw = Raw { io: tokio::io::BufReader::new(tcp), greeting: String::new() };
    raw.greeting = raw.line().await;
    let ok = raw.greeting.starts_with("* OK");
    (raw.greeting.clone(), ok.then_some(raw))
}

/// Connects until `want` connections are open (each refused one is
/// retried), within 10 s: places given back reach the supervisor a moment
/// after the connection closed.
async fn open(sup: &Supervisor, want: usize) -> Vec<Raw> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut open = Vec::new();
    while open.len() < want {
        assert!(Instant::now() < deadline, "only {} of {want} connections were accepted", open.len());
        match greeted(sup.imap).await {
            (_, Some(raw)) => open.push(raw),
            (_, None) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    open
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_limits_hold_for_all_workers_together() {
    let mut sup = Supervisor::start_with("[limits]\nmax_connections_per_ip = 4\nmax_connections_per_account = 2\n");
    // Per IP: of 12 connections, 4 are served, wherever the kernel hands
    // them (counted per worker, up to 8 would be).
    let mut kept = Vec::new();
    let mut owners = Vec::new();
    for _ in 0..12 {
        let (greeting, raw) = greeted(sup.imap).await;
        match raw {
            Some(raw) => {
                owners.push(sup.owner(&raw));
                kept.push(raw);
            }
            None => assert!(greeting.starts_with("* BYE"), "{greeting:?}"),
        }
    }
    assert_eq!(kept.len(), 4, "served by workers {owners:?}");
    // Closed connections give their places back.
    drop(kept);
    let mut conns = open(&sup, 3).await;

    // Per account: two logins, then NO [LIMIT], on whichever worker.
    login(&mut conns[0]).await;
    login(&mut conns[1]).await;
    let r = conns[2].cmd(&format!("LOGIN {USER} \"{PASSWORD}\"")).await;
    assert!(r.last().unwrap().starts_with("T NO [LIMIT]"), "{r:?}");
    // A worker that dies gives back the places it held: kill the one
    // holding the first login, and a third login goes through.
    let victim = sup.owner(&conns[0]).expect("an owner");
    let index = *sup.workers.iter().find(|(_, pid)| **pid == victim).unwrap().0;
    signal(victim, rustix::process::Signal::KILL);
    sup.restarted(index);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut raw = open(&sup, 1).await.pop().unwrap();
        let r = raw.cmd(&format!("LOGIN {USER} \"{PASSWORD}\"")).await;
        if r.last().unwrap().starts_with("T OK") {
            break;
        }
        assert!(r.last().unwrap().starts_with("T NO [LIMIT]"), "{r:?}");
        assert!(Instant::now() < deadline, "the dead worker's places were not given back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
