//! Latency samples per command, percentiles, table and JSON output.

use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Default, Debug, Clone)]
pub struct Recorder {
    /// microseconds per command name
    pub samples: BTreeMap<&'static str, Vec<u32>>,
    pub errors: u64,
    pub error_samples: Vec<String>,
}

impl Recorder {
    pub fn record(&mut self, cmd: &'static str, d: Duration) {
        self.samples.entry(cmd).or_default().push(d.as_micros().min(u32::MAX as u128) as u32);
    }

    pub fn error(&mut self, what: String) {
        self.errors += 1;
        if self.error_samples.len() < 20 {
            self.error_samples.push(what);
        }
    }

    pub fn merge(&mut self, o: Recorder) {
        for (k, mut v) in o.samples {
            self.samples.entry(k).or_default().append(&mut v);
        }
        self.errors += o.errors;
        for e in o.error_samples {
            if self.error_samples.len() < 20 {
                self.error_samples.push(e);
            }
        }
    }
}

#[derive(Serialize, Debug, Clone)]
pub struct CmdStats {
    pub count: u64,
    pub ops_per_sec: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
}

pub fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)] as f64 / 1000.0
}

pub fn median_ms(v: &[Duration]) -> f64 {
    let mut s: Vec<f64> = v.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    s.sort_by(|a, b| a.partial_cmp(b).unwrap());
    if s.is_empty() {
        return 0.0;
    }
    s[s.len() / 2]
}

pub fn summarize(r: &Recorder, secs: f64) -> BTreeMap<String, CmdStats> {
    let mut out = BTreeMap::new();
    for (k, v) in &r.samples {
        let mut s = v.clone();
        s.sort_unstable();
        out.insert(
            k.to_string(),
            CmdStats {
                count: s.len() as u64,
                ops_per_sec: s.len() as f64 / secs,
                p50_ms: percentile(&s, 0.5),
                p90_ms: percentile(&s, 0.9),
                p99_ms: percentile(&s, 0.99),
            },
        );
    }
    out
}

pub fn print_table(cmds: &BTreeMap<String, CmdStats>) {
    println!("{:<14} {:>9} {:>10} {:>9} {:>9} {:>9}", "command", "count", "ops/s", "p50 ms", "p90 ms", "p99 ms");
    for (k, s) in cmds {
        println!(
            "{:<14} {:>9} {:>10.1} {:>9.2} {:>9.2} {:>9.2}",
            k, s.count, s.ops_per_sec, s.p50_ms, s.p90_ms, s.p99_ms
        );
    }
}
