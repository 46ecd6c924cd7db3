//! The large-mailbox workload: fill one INBOX with N messages through
//! pipelined LITERAL+ APPENDs, then time SELECT, UID FETCH 1:* (FLAGS),
//! FETCH 1:* (ENVELOPE), UID SEARCH TEXT, UID SEARCH FROM, UID SORT (DATE), UID SORT
//! (SUBJECT), each repeated
//! on a fresh connection, and report medians.

use crate::imap::{seq_resp, Client};
use crate::stats::median_ms;
use anyhow::{bail, Context, Result};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

#[derive(Clone, Debug)]
pub struct Opts {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    pub count: usize,
    pub repeat: usize,
    pub word: String,
    pub from: String,
    pub max_size: usize,
    pub window: usize,
    /// Only the operations whose names contain one of these (lower case).
    pub ops: Option<Vec<String>>,
}

#[derive(Serialize)]
pub struct OpResult {
    pub median_ms: f64,
    pub samples_ms: Vec<f64>,
    pub responses: usize,
}

#[derive(Serialize)]
pub struct BigResult {
    pub workload: &'static str,
    pub host: String,
    pub port: u16,
    pub messages: usize,
    pub appended: usize,
    pub fill_seconds: f64,
    pub fill_msgs_per_sec: f64,
    pub fill_method: &'static str,
    pub ops: BTreeMap<String, OpResult>,
}

fn exists_of(r: &crate::imap::Reply) -> usize {
    r.untagged
        .iter()
        .filter_map(|l| seq_resp(&l.text).filter(|(_, w)| w.eq_ignore_ascii_case("EXISTS")).map(|(n, _)| n))
        .last()
        .unwrap_or(0) as usize
}

/// Pipelined APPENDs with LITERAL+ on one raw connection: a writer task sends,
/// this task counts the tagged replies; at most `window` in flight.
async fn fill(o: &Opts, msgs: &[&Vec<u8>], n: usize, multiappend: bool) -> Result<()> {
    let s = TcpStream::connect((o.host.as_str(), o.port)).await?;
    s.set_nodelay(true)?;
    let (r, mut w) = s.into_split();
    let mut r = BufReader::with_capacity(64 * 1024, r);
    let mut line = String::new();
    r.read_line(&mut line).await?;
    w.write_all(format!("L LOGIN {} {}\r\n", crate::imap::quote(&o.user), crate::imap::quote(&o.password)).as_bytes())
        .await?;
    loop {
        line.clear();
        if r.read_line(&mut line).await? == 0 {
            bail!("closed during login");
        }
        if line.starts_with("L OK") {
            break;
        }
        if line.starts_with("L ") {
            bail!("login failed: {line}");
        }
    }
    let (tx, mut rx) = tokio::sync::mpsc::channel::<()>(o.window.max(1));
    // With MULTIAPPEND (RFC 3502) one APPEND carries up to 100 messages, and
    // the server commits them as one transaction.
    let group = if multiappend { 100 } else { 1 };
    let cmds: Vec<Vec<u8>> = (0..n)
        .collect::<Vec<_>>()
        .chunks(group)
        .map(|c| {
            let mut v = b"APPEND INBOX".to_vec();
            for &i in c {
                let m = msgs[i % msgs.len()];
                v.extend_from_slice(format!(" () {{{}+}}\r\n", m.len()).as_bytes());
                v.extend_from_slice(m);
            }
            v.extend_from_slice(b"\r\n");
            v
        })
        .collect();
    let n_cmds = cmds.len();
    let writer = tokio::spawn(async move {
        let mut batch = Vec::with_capacity(1 << 20);
        for (i, m) in cmds.iter().enumerate() {
            if tx.try_send(()).is_err() {
                // Window full: flush what is queued, then wait for a reply.
                if !batch.is_empty() {
                    w.write_all(&batch).await?;
                    batch.clear();
                }
                tx.send(()).await.ok();
            }
            batch.extend_from_slice(format!("A{i} ").as_bytes());
            batch.extend_from_slice(m);
            if batch.len() > 256 * 1024 || i + 1 == n_cmds || in_flight(&tx) < 8 {
                w.write_all(&batch).await?;
                batch.clear();
            }
        }
        Ok::<_, anyhow::Error>(w)
    });
    let mut done = 0;
    let mut last_report = Instant::now();
    while done < n_cmds {
        line.clear();
        let k =
            tokio::time::timeout(Duration::from_secs(120), r.read_line(&mut line)).await.context("fill timeout")??;
        if k == 0 {
            bail!("connection closed after {done} appends");
        }
        if line.starts_with('A') {
            if !line.split(' ').nth(1).is_some_and(|s| s == "OK") {
                bail!("APPEND failed: {}", line.trim_end());
            }
            done += 1;
            rx.recv().await;
            if last_report.elapsed() > Duration::from_secs(10) {
                eprintln!("  fill: {}/{n}", done * group);
                last_report = Instant::now();
            }
        }
    }
    let mut w = writer.await??;
    w.write_all(b"Z LOGOUT\r\n").await.ok();
    Ok(())
}

/// Commands sent and not yet answered (flush early while few are, so the pipe never starves).
fn in_flight(tx: &tokio::sync::mpsc::Sender<()>) -> usize {
    tx.max_capacity() - tx.capacity()
}

/// SELECTs sent back to back in one write per repetition; the time per
/// SELECT is the server's cost without the client's round trip.
const PIPELINED: usize = 100;
pub const PIPELINED_SELECT: &str = "SELECT, 100 pipelined (per command)";
/// The same 100 SELECTs, and 100 NOOPs, each sent after the previous reply:
/// NOOP is the client's round-trip floor, which a warm SELECT cannot go
/// below on either server.
pub const SEQUENTIAL_SELECT: &str = "SELECT, 100 one at a time (per command)";
pub const SEQUENTIAL_NOOP: &str = "NOOP, 100 one at a time (per command)";

pub async fn run(o: Opts, corpus: &[Vec<u8>]) -> Result<BigResult> {
    let small: Vec<&Vec<u8>> = corpus.iter().filter(|m| m.len() <= o.max_size).collect();
    if small.is_empty() {
        bail!("no corpus message ≤ {} bytes", o.max_size);
    }
    let mut c = Client::login(&o.host, o.port, &o.user, &o.password).await?;
    let r = c.cmd("SELECT INBOX").await?;
    let have = exists_of(&r);
    let multiappend = c.has_cap("MULTIAPPEND") && c.has_cap("LITERAL+");
    c.logout().await.ok();
    let t = Instant::now();
    let mut appended = 0;
    if have < o.count {
        appended = o.count - have;
        eprintln!("filling {} with {} messages ({} present)", o.user, appended, have);
        fill(&o, &small, appended, multiappend).await?;
    }
    let fill_seconds = t.elapsed().as_secs_f64();
    let mut ops: BTreeMap<String, (Vec<Duration>, usize)> = BTreeMap::new();
    let cmds = [
        ("SELECT", "SELECT INBOX".to_string()),
        ("UID FETCH 1:* (FLAGS)", "UID FETCH 1:* (FLAGS)".to_string()),
        ("FETCH 1:* (ENVELOPE)", "FETCH 1:* (ENVELOPE)".to_string()),
        ("UID SEARCH TEXT", format!("UID SEARCH TEXT {}", o.word)),
        ("UID SEARCH FROM", format!("UID SEARCH FROM {}", o.from)),
        ("UID SORT (DATE)", "UID SORT (DATE) UTF-8 ALL".to_string()),
        ("UID SORT (SUBJECT)", "UID SORT (SUBJECT) UTF-8 ALL".to_string()),
    ];
    let wanted = |name: &str| {
        o.ops.as_ref().is_none_or(|ops| ops.iter().any(|w| name.to_ascii_lowercase().contains(w.as_str())))
    };
    for rep in 0..o.repeat {
        let mut c = Client::login(&o.host, o.port, &o.user, &o.password).await?;
        c.timeout = Duration::from_secs(600);
        for (name, cmd) in cmds.iter().filter(|(name, _)| wanted(name)) {
            let t = Instant::now();
            let (r, n) = c.cmd_count(cmd).await?;
            let d = t.elapsed();
            if !r.ok() {
                bail!("{cmd}: {:?} {}", r.status, r.text);
            }
            eprintln!("  rep {rep}: {name}: {:.3} ms ({n} responses) {}", d.as_secs_f64() * 1000.0, r.text);
            let e = ops.entry(name.to_string()).or_default();
            e.0.push(d);
            e.1 = n;
        }
        for (name, cmd) in [(SEQUENTIAL_NOOP, "NOOP"), (SEQUENTIAL_SELECT, "SELECT INBOX")] {
            if !wanted(name) {
                continue;
            }
            let t = Instant::now();
            for _ in 0..PIPELINED {
                let r = c.cmd(cmd).await?;
                if !r.ok() {
                    bail!("{cmd}: {:?} {}", r.status, r.text);
                }
            }
            let d = t.elapsed() / PIPELINED as u32;
            eprintln!("  rep {rep}: {name}: {:.3} ms", d.as_secs_f64() * 1000.0);
            let e = ops.entry(name.to_string()).or_default();
            e.0.push(d);
            e.1 = PIPELINED;
        }
        if wanted(PIPELINED_SELECT) {
            let t = Instant::now();
            c.pipelined("SELECT INBOX", PIPELINED).await?;
            let d = t.elapsed() / PIPELINED as u32;
            eprintln!("  rep {rep}: {PIPELINED_SELECT}: {:.3} ms", d.as_secs_f64() * 1000.0);
            let e = ops.entry(PIPELINED_SELECT.to_string()).or_default();
            e.0.push(d);
            e.1 = PIPELINED;
        }
        c.logout().await.ok();
    }
    let ops = ops
        .into_iter()
        .map(|(k, (v, n))| {
            (
                k,
                OpResult {
                    median_ms: median_ms(&v),
                    samples_ms: v.iter().map(|d| d.as_secs_f64() * 1000.0).collect(),
                    responses: n,
                },
            )
        })
        .collect();
    Ok(BigResult {
        workload: "bigmailbox",
        host: o.host.clone(),
        port: o.port,
        messages: o.count,
        appended,
        fill_seconds,
        fill_method: if multiappend {
            "MULTIAPPEND, 100 per command, LITERAL+, pipelined"
        } else {
            "APPEND with LITERAL+, pipelined"
        },
        fill_msgs_per_sec: if appended > 0 { appended as f64 / fill_seconds } else { 0.0 },
        ops,
    })
}

pub fn print(r: &BigResult) {
    println!(
        "bigmailbox: {}:{} {} messages; filled {} in {:.1}s ({:.0}/s)",
        r.host, r.port, r.messages, r.appended, r.fill_seconds, r.fill_msgs_per_sec
    );
    println!("{:<24} {:>12} {:>10}", "operation", "median ms", "responses");
    for (k, v) in &r.ops {
        println!("{:<24} {:>12.3} {:>10}", k, v.median_ms, v.responses);
    }
}
