//! N logged-in connections, each in IDLE on INBOX, held for a while so that
//! the runner can measure the server's resident memory; then one message is
//! appended to the first user's INBOX and the idle connections of that user
//! that see `EXISTS` within a bound are counted.
//!
//! One process cannot hold more connections than its open-file limit (20 000
//! on the benchmark machine), and one source address reaches one server port
//! through at most ~28 000 ephemeral ports. So above 15 000 connections the
//! generator runs child processes of itself (`--processes`), each holding a
//! share, and spreads the connections over source addresses 127.0.0.1,
//! 127.0.0.2, … (`--sources`; any 127/8 address works on loopback). A child
//! reports on its standard output (`PROGRESS n`, `READY n check`, `EXISTS`,
//! `RESULT {json}`) and releases its connections when its standard input ends.

use crate::imap::Client;
use crate::mixed::user_name;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

/// Connections per generator process when `processes` is 0 (automatic).
const PER_PROCESS: usize = 15_000;
/// Connections per source address when `sources` is 0 (automatic), well
/// below the ~28 000 ephemeral ports, so that TIME_WAIT ports of a previous
/// run do not get in the way.
const PER_SOURCE: usize = 10_000;

#[derive(Clone, Debug)]
pub struct Opts {
    pub host: String,
    pub port: u16,
    pub user_pattern: String,
    pub users: usize,
    pub password: String,
    pub connections: usize,
    pub concurrency: usize,
    pub hold: u64,
    pub ready_file: Option<std::path::PathBuf>,
    pub setup_timeout: u64,
    /// Generator processes (0: one per 15 000 connections).
    pub processes: usize,
    /// Source addresses 127.0.0.1 … 127.0.0.N used in turn (0: one per
    /// 10 000 connections to a 127.0.0.1 server, else the system's choice).
    pub sources: usize,
    /// Seconds to wait for the first user's idle connections to see the
    /// appended message (0: no delivery check).
    pub check_wait: u64,
}

impl Opts {
    fn processes(&self) -> usize {
        if self.processes > 0 {
            self.processes
        } else {
            self.connections.div_ceil(PER_PROCESS).max(1)
        }
    }

    fn sources(&self) -> usize {
        if self.sources > 0 {
            self.sources.min(254)
        } else if self.host == "127.0.0.1" {
            self.connections.div_ceil(PER_SOURCE).clamp(1, 254)
        } else {
            1
        }
    }

    /// The source address of global connection `g` (`None`: the system's).
    fn source(&self, g: usize) -> Option<IpAddr> {
        let n = self.sources();
        (n > 1).then(|| IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1 + (g % n) as u8)))
    }
}

/// Whether the idle connections of one user saw a new message.
#[derive(Serialize, Default, Clone)]
pub struct DeliveryCheck {
    pub user: String,
    /// Idle connections of that user.
    pub connections: usize,
    /// Of those, the ones that got `EXISTS` within `wait_ms`.
    pub saw_exists: usize,
    pub wait_ms: u64,
    /// From sending the APPEND to the last `EXISTS` seen.
    pub last_exists_ms: Option<f64>,
}

#[derive(Serialize)]
pub struct IdleResult {
    pub workload: &'static str,
    pub host: String,
    pub port: u16,
    pub requested: usize,
    pub established: usize,
    pub failed: usize,
    pub setup_seconds: f64,
    pub still_open_after_hold: usize,
    pub processes: usize,
    pub sources: usize,
    pub delivery_check: Option<DeliveryCheck>,
    pub first_errors: Vec<String>,
}

/// What one process's connections came to.
#[derive(Serialize, Deserialize, Default, Debug)]
pub struct Part {
    pub established: usize,
    pub failed: usize,
    pub alive: usize,
    pub errors: Vec<String>,
}

/// What a share of the connections reports, in-process or from a child.
enum Ev {
    Progress(usize),
    /// All set up: established, and how many of them are the first user's.
    Ready(usize, usize),
    /// One of the first user's connections saw EXISTS.
    Exists,
    Done(Part),
}

/// Opens `count` connections (global numbers `first..first + count`), puts
/// each in IDLE, reports, and holds them until `release`.
async fn hold(o: Opts, first: usize, count: usize, tx: mpsc::UnboundedSender<Ev>, release: watch::Receiver<bool>) {
    let start = Instant::now();
    let sem = Arc::new(tokio::sync::Semaphore::new(o.concurrency.max(1)));
    let established = Arc::new(AtomicUsize::new(0));
    let check = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for g in first..first + count {
        let o = o.clone();
        let (sem, established, check, tx) = (sem.clone(), established.clone(), check.clone(), tx.clone());
        let mut release = release.clone();
        tasks.spawn(async move {
            let u = g % o.users.max(1);
            let user = user_name(&o.user_pattern, u);
            let permit = sem.acquire_owned().await.map_err(|e| e.to_string())?;
            let setup = async {
                let mut c = Client::login_from(&o.host, o.port, o.source(g), &user, &o.password).await?;
                let r = c.cmd("SELECT INBOX").await?;
                if !r.ok() {
                    anyhow::bail!("SELECT: {}", r.text);
                }
                let (tag, _) = c.idle_start().await?;
                Ok::<_, anyhow::Error>((c, tag))
            };
            let (mut c, tag) = match tokio::time::timeout(Duration::from_secs(o.setup_timeout), setup).await {
                Ok(Ok(x)) => x,
                Ok(Err(e)) => return Err(format!("{user}: {e:#}")),
                Err(_) => return Err(format!("{user}: setup timeout")),
            };
            drop(permit);
            established.fetch_add(1, Ordering::Relaxed);
            if u == 0 {
                check.fetch_add(1, Ordering::Relaxed);
            }
            // Hold until released, reading what the server sends meanwhile
            // (keepalives, and the delivery check's EXISTS).
            c.timeout = Duration::from_secs(24 * 3600);
            let mut seen = false;
            loop {
                tokio::select! {
                    _ = release.wait_for(|r| *r) => break,
                    line = c.read_line() => match line {
                        Ok(l) if !seen && l.text.ends_with(" EXISTS") => {
                            seen = true;
                            let _ = tx.send(Ev::Exists);
                        }
                        Ok(_) => {}
                        Err(e) => return Err(format!("{user}: lost while idle: {e:#}")),
                    },
                }
            }
            // Is the connection still alive? DONE must be answered.
            c.timeout = Duration::from_secs(30);
            match c.idle_done(&tag).await {
                Ok(r) if r.ok() => Ok(true),
                _ => Ok(false),
            }
        });
    }
    // Wait for every setup to finish (bounded by setup_timeout per connection).
    let deadline = Duration::from_secs(o.setup_timeout * (1 + count as u64 / o.concurrency.max(1) as u64));
    loop {
        let e = established.load(Ordering::Relaxed);
        // Tasks that already ended before the release can only be failures.
        let failed_so_far = count - tasks.len();
        if e + failed_so_far >= count || start.elapsed() > deadline {
            break;
        }
        let _ = tx.send(Ev::Progress(e));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let _ = tx.send(Ev::Ready(established.load(Ordering::Relaxed), check.load(Ordering::Relaxed)));
    let mut part = Part { established: established.load(Ordering::Relaxed), ..Part::default() };
    while let Some(r) = tasks.join_next().await {
        match r {
            Ok(Ok(true)) => part.alive += 1,
            Ok(Ok(false)) => {}
            Ok(Err(e)) => {
                part.failed += 1;
                if part.errors.len() < 10 {
                    part.errors.push(e);
                }
            }
            Err(e) => part.errors.push(format!("task: {e}")),
        }
    }
    let _ = tx.send(Ev::Done(part));
}

/// `idle --child-first N`: one share of a multi-process run, reporting on
/// standard output; released when standard input ends.
pub async fn child(o: Opts, first: usize) -> Result<()> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (release_tx, release_rx) = watch::channel(false);
    std::thread::spawn(move || {
        let _ = std::io::stdin().lock().lines().next();
        let _ = release_tx.send(true);
    });
    tokio::spawn(hold(o.clone(), first, o.connections, tx, release_rx));
    let mut out = std::io::stdout();
    while let Some(ev) = rx.recv().await {
        match ev {
            Ev::Progress(n) => writeln!(out, "PROGRESS {n}")?,
            Ev::Ready(n, check) => writeln!(out, "READY {n} {check}")?,
            Ev::Exists => writeln!(out, "EXISTS")?,
            Ev::Done(part) => {
                writeln!(out, "RESULT {}", serde_json::to_string(&part)?)?;
                break;
            }
        }
        out.flush()?;
    }
    Ok(())
}

/// Parses one line of a child's report.
fn child_event(line: &str) -> Option<Ev> {
    let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
    let mut nums = rest.split_whitespace().map(|n| n.parse::<usize>().ok());
    match word {
        "PROGRESS" => Some(Ev::Progress(nums.next()??)),
        "READY" => Some(Ev::Ready(nums.next()??, nums.next()??)),
        "EXISTS" => Some(Ev::Exists),
        "RESULT" => serde_json::from_str(rest).ok().map(Ev::Done),
        _ => None,
    }
}

/// A running child: its standard input (dropped to release it).
struct Child {
    stdin: Option<std::process::ChildStdin>,
    process: std::process::Child,
}

fn spawn_child(
    o: &Opts,
    first: usize,
    count: usize,
    part: usize,
    tx: mpsc::UnboundedSender<(usize, Ev)>,
) -> Result<Child> {
    let exe = std::env::current_exe().context("cannot find postfach-bench")?;
    let mut process = std::process::Command::new(exe)
        .arg("idle")
        .args(["--host", &o.host, "--port", &o.port.to_string()])
        .args(["--user-pattern", &o.user_pattern, "--users", &o.users.to_string(), "--password", &o.password])
        .args(["--connections", &count.to_string(), "--concurrency", &o.concurrency.to_string()])
        .args(["--setup-timeout", &o.setup_timeout.to_string(), "--sources", &o.sources().to_string()])
        .args(["--child-first", &first.to_string()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .context("cannot start a generator process")?;
    let stdout = process.stdout.take().context("child stdout")?;
    std::thread::spawn(move || {
        let mut done = false;
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(ev) = child_event(&line) {
                done |= matches!(ev, Ev::Done(_));
                let _ = tx.send((part, ev));
            }
        }
        if !done {
            let errors = vec![format!("generator process {part} ended without a result")];
            let _ = tx.send((part, Ev::Done(Part { errors, ..Part::default() })));
        }
    });
    Ok(Child { stdin: process.stdin.take(), process })
}

pub async fn run(o: Opts) -> Result<IdleResult> {
    let start = Instant::now();
    let procs = o.processes().min(o.connections.max(1));
    let (tx, mut rx) = mpsc::unbounded_channel::<(usize, Ev)>();
    let (release_tx, release_rx) = watch::channel(false);
    let mut children = Vec::new();
    if procs == 1 {
        let (ltx, mut lrx) = mpsc::unbounded_channel();
        tokio::spawn(hold(o.clone(), 0, o.connections, ltx, release_rx));
        let tx = tx.clone();
        tokio::spawn(async move {
            while let Some(ev) = lrx.recv().await {
                let _ = tx.send((0, ev));
            }
        });
    } else {
        let mut first = 0;
        for p in 0..procs {
            let count = o.connections / procs + usize::from(p < o.connections % procs);
            children.push(spawn_child(&o, first, count, p, tx.clone())?);
            first += count;
        }
    }
    drop(tx);
    let mut progress = vec![0usize; procs];
    let mut ready: Vec<Option<(usize, usize)>> = vec![None; procs];
    let mut parts: Vec<Option<Part>> = (0..procs).map(|_| None).collect();
    let mut last_log = Instant::now();
    // Until every share is set up (or gone).
    while ready.iter().zip(&parts).any(|(r, p)| r.is_none() && p.is_none()) {
        let Some((p, ev)) = rx.recv().await else { break };
        match ev {
            Ev::Progress(n) => progress[p] = n,
            Ev::Ready(n, check) => ready[p] = Some((n, check)),
            // Nothing has changed yet: a stray EXISTS is not the check's.
            Ev::Exists => {}
            Ev::Done(part) => parts[p] = Some(part),
        }
        let e: usize = (0..procs).map(|i| ready[i].map_or(progress[i], |r| r.0)).sum();
        if let Some(f) = &o.ready_file {
            let _ = std::fs::write(f.with_extension("progress"), format!("{e}\n"));
        }
        if last_log.elapsed() > Duration::from_secs(10) {
            eprintln!("  idle: {e}/{} established after {:.0}s", o.connections, start.elapsed().as_secs_f64());
            last_log = Instant::now();
        }
    }
    let setup_seconds = start.elapsed().as_secs_f64();
    let est: usize = ready.iter().flatten().map(|r| r.0).sum();
    let check_conns: usize = ready.iter().flatten().map(|r| r.1).sum();
    println!("READY {est} established in {setup_seconds:.1}s ({procs} processes, {} source addresses)", o.sources());
    if let Some(f) = &o.ready_file {
        std::fs::write(f, format!("{est}\n"))?;
    }

    // The delivery check: a new message in the first user's INBOX.
    let mut delivery_check = None;
    if o.check_wait > 0 && check_conns > 0 {
        let user = user_name(&o.user_pattern, 0);
        let mut c = Client::login(&o.host, o.port, &user, &o.password).await?;
        let msg = format!(
            "From: bench@example.org\r\nTo: {user}@example.org\r\nSubject: idle check\r\nMessage-ID: <idle-check-{}@bench>\r\n\r\nWake up.\r\n",
            std::process::id()
        );
        let mut exists = 0;
        let appended = Instant::now();
        let r = c.append("INBOX", "", msg.as_bytes()).await?;
        anyhow::ensure!(r.ok(), "delivery check APPEND: {}", r.text);
        let wait = Duration::from_secs(o.check_wait);
        let mut last = None;
        while exists < check_conns {
            match tokio::time::timeout(wait.saturating_sub(appended.elapsed()), rx.recv()).await {
                Ok(Some((_, Ev::Exists))) => {
                    exists += 1;
                    last = Some(appended.elapsed().as_secs_f64() * 1000.0);
                }
                Ok(Some((p, Ev::Done(part)))) => parts[p] = Some(part),
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
        let _ = c.cmd("LOGOUT").await;
        println!(
            "delivery check: {exists}/{check_conns} idle connections of {user} saw EXISTS, the last {}",
            last.map_or("never".to_string(), |ms| format!("{ms:.0} ms after sending the APPEND"))
        );
        delivery_check = Some(DeliveryCheck {
            user,
            connections: check_conns,
            saw_exists: exists,
            wait_ms: wait.as_millis() as u64,
            last_exists_ms: last,
        });
    }

    // Hold for the given time, or until SIGINT (the runner's release signal).
    tokio::select! {
        _ = tokio::time::sleep(Duration::from_secs(o.hold)) => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    release_tx.send(true).ok();
    for c in &mut children {
        c.stdin.take();
    }
    while parts.iter().any(Option::is_none) {
        match rx.recv().await {
            Some((p, Ev::Done(part))) => parts[p] = Some(part),
            Some(_) => {}
            None => break,
        }
    }
    for mut c in children {
        let _ = tokio::task::spawn_blocking(move || c.process.wait()).await;
    }
    let mut total = Part::default();
    for part in parts.into_iter().flatten() {
        total.failed += part.failed;
        total.alive += part.alive;
        total.errors.extend(part.errors.into_iter().take(10usize.saturating_sub(total.errors.len())));
    }
    Ok(IdleResult {
        workload: "idle",
        host: o.host.clone(),
        port: o.port,
        requested: o.connections,
        established: est,
        failed: total.failed,
        setup_seconds,
        still_open_after_hold: total.alive,
        processes: procs,
        sources: o.sources(),
        delivery_check,
        first_errors: total.errors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(connections: usize) -> Opts {
        Opts {
            host: "127.0.0.1".into(),
            port: 143,
            user_pattern: "bench%d".into(),
            users: 100,
            password: "x".into(),
            connections,
            concurrency: 32,
            hold: 1,
            ready_file: None,
            setup_timeout: 60,
            processes: 0,
            sources: 0,
            check_wait: 10,
        }
    }

    #[test]
    fn large_runs_spread_over_processes_and_source_addresses() {
        assert_eq!((opts(10_000).processes(), opts(10_000).sources()), (1, 1));
        assert_eq!(opts(10_000).source(5), None);
        let o = opts(50_000);
        assert_eq!((o.processes(), o.sources()), (4, 5));
        assert_eq!(o.source(0), Some("127.0.0.1".parse().unwrap()));
        assert_eq!(o.source(6), Some("127.0.0.2".parse().unwrap()));
        assert_eq!(Opts { host: "10.0.0.1".into(), ..opts(50_000) }.sources(), 1);
    }

    #[test]
    fn child_reports_parse() {
        assert!(matches!(child_event("READY 12 3"), Some(Ev::Ready(12, 3))));
        assert!(matches!(child_event("PROGRESS 7"), Some(Ev::Progress(7))));
        assert!(matches!(child_event("EXISTS"), Some(Ev::Exists)));
        let part = Part { established: 2, failed: 1, alive: 1, errors: vec!["e".into()] };
        let line = format!("RESULT {}", serde_json::to_string(&part).unwrap());
        assert!(matches!(child_event(&line), Some(Ev::Done(p)) if p.failed == 1 && p.errors == ["e"]));
        assert!(child_event("READY x").is_none() && child_event("junk").is_none());
    }
}
