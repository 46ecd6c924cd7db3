//! N logged-in connections, each in IDLE on INBOX, held for a while so that
//! the runner can measure the server's resident memory.

use crate::imap::Client;
use crate::mixed::user_name;
use anyhow::Result;
use serde::Serialize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    pub first_errors: Vec<String>,
}

pub async fn run(o: Opts) -> Result<IdleResult> {
    let start = Instant::now();
    let sem = Arc::new(tokio::sync::Semaphore::new(o.concurrency.max(1)));
    let established = Arc::new(AtomicUsize::new(0));
    let (release_tx, release_rx) = tokio::sync::watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..o.connections {
        let o = o.clone();
        let sem = sem.clone();
        let established = established.clone();
        let mut release = release_rx.clone();
        tasks.spawn(async move {
            let user = user_name(&o.user_pattern, i % o.users.max(1));
            let permit = sem.acquire_owned().await.unwrap();
            let setup = async {
                let mut c = Client::login(&o.host, o.port, &user, &o.password).await?;
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
            // Hold until released; the server may send untagged updates meanwhile.
            let _ = release.wait_for(|r| *r).await;
            // Is the connection still alive? DONE must be answered.
            c.timeout = Duration::from_secs(30);
            match c.idle_done(&tag).await {
                Ok(r) if r.ok() => Ok(true),
                _ => Ok(false),
            }
        });
    }
    // Wait for every setup to finish (bounded by setup_timeout per connection).
    let mut last = Instant::now();
    loop {
        let e = established.load(Ordering::Relaxed);
        if e + failed_so_far(&tasks, o.connections) >= o.connections {
            break;
        }
        if let Some(f) = &o.ready_file {
            let _ = std::fs::write(f.with_extension("progress"), format!("{e}\n"));
        }
        if last.elapsed() > Duration::from_secs(10) {
            eprintln!("  idle: {e}/{} established after {:.0}s", o.connections, start.elapsed().as_secs_f64());
            last = Instant::now();
        }
        if start.elapsed()
            > Duration::from_secs(o.setup_timeout * (1 + o.connections as u64 / o.concurrency.max(1) as u64))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let setup_seconds = start.elapsed().as_secs_f64();
    let est = established.load(Ordering::Relaxed);
    println!("READY {est} established in {setup_seconds:.1}s");
    if let Some(f) = &o.ready_file {
        std::fs::write(f, format!("{est}\n"))?;
    }
    // Hold for the given time, or until SIGINT (the runner's release signal).
    tokio::select! {
        _ = tokio::time::sleep(Duration::from_secs(o.hold)) => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    release_tx.send(true).ok();
    let mut alive = 0;
    let mut failed = 0;
    let mut errors = Vec::new();
    while let Some(r) = tasks.join_next().await {
        match r? {
            Ok(true) => alive += 1,
            Ok(false) => {}
            Err(e) => {
                failed += 1;
                if errors.len() < 10 {
                    errors.push(e);
                }
            }
        }
    }
    Ok(IdleResult {
        workload: "idle",
        host: o.host.clone(),
        port: o.port,
        requested: o.connections,
        established: est,
        failed,
        setup_seconds,
        still_open_after_hold: alive,
        first_errors: errors,
    })
}

/// Tasks that already ended before the release can only be failures.
fn failed_so_far(tasks: &tokio::task::JoinSet<std::result::Result<bool, String>>, total: usize) -> usize {
    total - tasks.len()
}
