//! LMTP delivery load (RFC 2033): S senders, each on its own connection,
//! LHLO once, then MAIL FROM / RCPT TO (1–3 recipients) / DATA per message,
//! reading one reply per accepted recipient after the final dot.

use crate::mixed::user_name;
use crate::stats::{percentile, Recorder};
use anyhow::{bail, Context, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

#[derive(Clone, Debug)]
pub struct Opts {
    pub host: String,
    pub port: u16,
    pub senders: usize,
    pub messages: usize,
    pub rcpt_pattern: String,
    pub users: usize,
    pub max_rcpts: usize,
    pub seed: u64,
}

#[derive(Serialize)]
pub struct LmtpResult {
    pub workload: &'static str,
    pub host: String,
    pub port: u16,
    pub senders: usize,
    pub messages: usize,
    pub delivered_messages: u64,
    pub recipient_deliveries: u64,
    pub seconds: f64,
    pub messages_per_sec: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub errors: u64,
    pub error_samples: Vec<String>,
}

struct Conn {
    r: BufReader<tokio::net::tcp::OwnedReadHalf>,
    w: tokio::net::tcp::OwnedWriteHalf,
    line: String,
}

impl Conn {
    /// Reads one (possibly multi-line) reply; returns (code, last line).
    async fn reply(&mut self) -> Result<(u16, String)> {
        loop {
            self.line.clear();
            let n = tokio::time::timeout(Duration::from_secs(120), self.r.read_line(&mut self.line))
                .await
                .context("LMTP reply timeout")??;
            if n == 0 {
                bail!("LMTP connection closed");
            }
            let l = self.line.trim_end();
            if l.len() < 3 {
                bail!("short reply {l:?}");
            }
            let code: u16 = l[..3].parse().with_context(|| format!("bad reply {l:?}"))?;
            if l.as_bytes().get(3) != Some(&b'-') {
                return Ok((code, l.to_string()));
            }
        }
    }

    async fn cmd(&mut self, c: &str) -> Result<(u16, String)> {
        self.w.write_all(c.as_bytes()).await?;
        self.w.write_all(b"\r\n").await?;
        self.reply().await
    }
}

/// Dot-stuffing and CRLF termination for DATA.
pub fn dot_stuff(msg: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(msg.len() + 64);
    let mut at_line_start = true;
    for &b in msg {
        if at_line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        at_line_start = b == b'\n';
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

async fn sender(o: Arc<Opts>, corpus: Arc<Vec<Vec<u8>>>, id: usize, count: usize) -> Result<(Recorder, u64, u64)> {
    let mut rng = ChaCha8Rng::seed_from_u64(o.seed.wrapping_mul(7919).wrapping_add(id as u64));
    let s = TcpStream::connect((o.host.as_str(), o.port)).await?;
    s.set_nodelay(true)?;
    let (r, w) = s.into_split();
    let mut c = Conn { r: BufReader::new(r), w, line: String::new() };
    let (code, l) = c.reply().await?;
    if code != 220 {
        bail!("greeting {l}");
    }
    let (code, l) = c.cmd("LHLO bench.example").await?;
    if code != 250 {
        bail!("LHLO: {l}");
    }
    let mut rec = Recorder::default();
    let mut delivered = 0;
    let mut rcpt_ok = 0;
    for k in 0..count {
        let msg = &corpus[rng.gen_range(0..corpus.len())];
        let n_rcpt = rng.gen_range(1..=o.max_rcpts.max(1));
        let t = Instant::now();
        let (code, l) = c.cmd(&format!("MAIL FROM:<sender{id}.{k}@bench.example>")).await?;
        if code != 250 {
            rec.error(format!("MAIL: {l}"));
            c.cmd("RSET").await?;
            continue;
        }
        let mut accepted = 0;
        for _ in 0..n_rcpt {
            let u = user_name(&o.rcpt_pattern, rng.gen_range(0..o.users.max(1)));
            let (code, l) = c.cmd(&format!("RCPT TO:<{u}>")).await?;
            if code == 250 {
                accepted += 1;
            } else {
                rec.error(format!("RCPT {u}: {l}"));
            }
        }
        if accepted == 0 {
            c.cmd("RSET").await?;
            continue;
        }
        let (code, l) = c.cmd("DATA").await?;
        if code != 354 {
            rec.error(format!("DATA: {l}"));
            c.cmd("RSET").await?;
            continue;
        }
        c.w.write_all(&dot_stuff(msg)).await?;
        let mut all_ok = true;
        for _ in 0..accepted {
            let (code, l) = c.reply().await?;
            if code == 250 {
                rcpt_ok += 1;
            } else {
                all_ok = false;
                rec.error(format!("after DATA: {l}"));
            }
        }
        if all_ok {
            rec.record("DELIVER", t.elapsed());
            delivered += 1;
        }
    }
    c.cmd("QUIT").await.ok();
    Ok((rec, delivered, rcpt_ok))
}

pub async fn run(o: Opts, corpus: Vec<Vec<u8>>) -> Result<LmtpResult> {
    let o = Arc::new(o);
    let corpus = Arc::new(corpus);
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let per = o.messages / o.senders.max(1);
    let extra = o.messages % o.senders.max(1);
    for id in 0..o.senders {
        let n = per + usize::from(id < extra);
        tasks.spawn(sender(o.clone(), corpus.clone(), id, n));
    }
    let mut rec = Recorder::default();
    let (mut delivered, mut rcpts) = (0, 0);
    while let Some(r) = tasks.join_next().await {
        match r? {
            Ok((r, d, k)) => {
                rec.merge(r);
                delivered += d;
                rcpts += k;
            }
            Err(e) => rec.error(format!("sender failed: {e:#}")),
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let mut lat = rec.samples.get("DELIVER").cloned().unwrap_or_default();
    lat.sort_unstable();
    Ok(LmtpResult {
        workload: "lmtp",
        host: o.host.clone(),
        port: o.port,
        senders: o.senders,
        messages: o.messages,
        delivered_messages: delivered,
        recipient_deliveries: rcpts,
        seconds: secs,
        messages_per_sec: delivered as f64 / secs,
        p50_ms: percentile(&lat, 0.5),
        p90_ms: percentile(&lat, 0.9),
        p99_ms: percentile(&lat, 0.99),
        errors: rec.errors,
        error_samples: rec.error_samples,
    })
}

pub fn print(r: &LmtpResult) {
    println!(
        "lmtp: {}:{} senders={} delivered {}/{} messages ({} recipient deliveries) in {:.1}s = {:.1} msg/s; p50 {:.1} ms p90 {:.1} ms p99 {:.1} ms; errors {}",
        r.host, r.port, r.senders, r.delivered_messages, r.messages, r.recipient_deliveries, r.seconds, r.messages_per_sec, r.p50_ms, r.p90_ms, r.p99_ms, r.errors
    );
    for e in &r.error_samples {
        println!("  error: {e}");
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn dot_stuffing() {
        assert_eq!(super::dot_stuff(b"a\r\n.b\r\n"), b"a\r\n..b\r\n.\r\n");
        assert_eq!(super::dot_stuff(b".x"), b"..x\r\n.\r\n");
    }
}
