//! `postfach-bench report --dir DIR`: the side-by-side table (Markdown) from
//! the JSON files bench/compare.sh writes.

use anyhow::Result;
use serde_json::Value;
use std::fmt::Write;
use std::path::Path;

fn load(dir: &Path, name: &str) -> Option<Value> {
    let s = std::fs::read_to_string(dir.join(name)).ok()?;
    serde_json::from_str(&s).ok()
}

fn f(v: &Value, k: &str) -> Option<f64> {
    v.get(k)?.as_f64()
}

fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}×", a / b),
        _ => "–".into(),
    }
}

fn num(x: Option<f64>, prec: usize) -> String {
    x.map(|x| format!("{x:.prec$}")).unwrap_or_else(|| "–".into())
}

pub fn report(dir: &Path) -> Result<String> {
    let mut o = String::new();
    let mut names: Vec<String> =
        std::fs::read_dir(dir)?.filter_map(|e| e.ok()?.file_name().into_string().ok()).collect();
    names.sort();

    // (a) mixed
    let mut clients: Vec<u64> =
        names.iter().filter_map(|n| n.strip_prefix("mixed-c")?.strip_suffix("-postfach.json")?.parse().ok()).collect();
    clients.sort();
    if !clients.is_empty() {
        writeln!(
            o,
            "## (a) mixed IMAP client model (ops/s, higher is better; target postfach ≥ 2× Dovecot, 0 errors)\n"
        )?;
        writeln!(o, "| clients | postfach ops/s | Dovecot ops/s | postfach/Dovecot | postfach errors | Dovecot errors | LOGIN p50 ms pf / dc | FETCH_BODY p50 ms pf / dc | APPEND p50 ms pf / dc |")?;
        writeln!(o, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|")?;
        for c in clients {
            let p = load(dir, &format!("mixed-c{c}-postfach.json")).unwrap_or(Value::Null);
            let d = load(dir, &format!("mixed-c{c}-dovecot.json")).unwrap_or(Value::Null);
            let errs = |v: &Value| {
                format!(
                    "{} (+{} io)",
                    v.get("protocol_errors").and_then(Value::as_u64).map_or("–".into(), |x| x.to_string()),
                    v.get("io_errors").and_then(Value::as_u64).unwrap_or(0)
                )
            };
            let p50 = |v: &Value, cmd: &str| v.get("commands").and_then(|c| c.get(cmd)).and_then(|c| f(c, "p50_ms"));
            let pair = |cmd: &str| format!("{} / {}", num(p50(&p, cmd), 2), num(p50(&d, cmd), 2));
            writeln!(
                o,
                "| {c} | {} | {} | {} | {} | {} | {} | {} | {} |",
                num(f(&p, "ops_per_sec"), 1),
                num(f(&d, "ops_per_sec"), 1),
                ratio(f(&p, "ops_per_sec"), f(&d, "ops_per_sec")),
                errs(&p),
                errs(&d),
                pair("LOGIN"),
                pair("FETCH_BODY"),
                pair("APPEND")
            )?;
        }
        writeln!(o)?;
    }

    // (b) lmtp
    let mut senders: Vec<u64> =
        names.iter().filter_map(|n| n.strip_prefix("lmtp-s")?.strip_suffix("-dovecot.json")?.parse().ok()).collect();
    senders.sort();
    if !senders.is_empty() {
        writeln!(o, "## (b) LMTP delivery (messages/s, higher is better)\n")?;
        writeln!(
            o,
            "| senders | postfach msg/s | Dovecot msg/s | postfach/Dovecot | p50 ms pf / dc | errors pf / dc |"
        )?;
        writeln!(o, "|---:|---:|---:|---:|---:|---:|")?;
        for s in senders {
            let p = load(dir, &format!("lmtp-s{s}-postfach.json")).unwrap_or(Value::Null);
            let d = load(dir, &format!("lmtp-s{s}-dovecot.json")).unwrap_or(Value::Null);
            let pf = if p.get("not_measured").is_some() {
                "not measured".to_string()
            } else {
                num(f(&p, "messages_per_sec"), 1)
            };
            writeln!(
                o,
                "| {s} | {pf} | {} | {} | {} / {} | {} / {} |",
                num(f(&d, "messages_per_sec"), 1),
                ratio(f(&p, "messages_per_sec"), f(&d, "messages_per_sec")),
                num(f(&p, "p50_ms"), 1),
                num(f(&d, "p50_ms"), 1),
                num(f(&p, "errors"), 0),
                num(f(&d, "errors"), 0),
            )?;
        }
        writeln!(o)?;
    }

    // (c) big mailbox
    if let (Some(p), Some(d)) = (load(dir, "big-postfach.json"), load(dir, "big-dovecot.json")) {
        writeln!(
            o,
            "## (c) {}-message mailbox (median ms, lower is better; target Dovecot/postfach ≥ 5×)\n",
            p.get("messages").and_then(Value::as_u64).unwrap_or(0)
        )?;
        writeln!(o, "| operation | postfach ms | Dovecot ms | speed-up (Dovecot/postfach) |")?;
        writeln!(o, "|---|---:|---:|---:|")?;
        let ops = [
            "SELECT",
            crate::big::SEQUENTIAL_NOOP,
            crate::big::SEQUENTIAL_SELECT,
            crate::big::PIPELINED_SELECT,
            "UID FETCH 1:* (FLAGS)",
            "FETCH 1:* (ENVELOPE)",
            "UID SEARCH TEXT",
            "UID SEARCH FROM",
            "UID SORT (DATE)",
            "UID SORT (SUBJECT)",
        ];
        for op in ops {
            let m = |v: &Value| v.get("ops").and_then(|x| x.get(op)).and_then(|x| f(x, "median_ms"));
            // Sub-millisecond figures (a warm SELECT) keep three decimals.
            let digits = if [m(&p), m(&d)].into_iter().flatten().fold(0.0, f64::max) < 1.0 { 3 } else { 1 };
            writeln!(o, "| {op} | {} | {} | {} |", num(m(&p), digits), num(m(&d), digits), ratio(m(&d), m(&p)))?;
        }
        writeln!(
            o,
            "| fill (APPEND, msg/s, higher is better) | {} | {} | {} |",
            num(f(&p, "fill_msgs_per_sec"), 0),
            num(f(&d, "fill_msgs_per_sec"), 0),
            ratio(f(&p, "fill_msgs_per_sec"), f(&d, "fill_msgs_per_sec"))
        )?;
        writeln!(o)?;
    }

    // (d) idle memory
    let mut ns: Vec<u64> = names
        .iter()
        .filter_map(|n| n.strip_prefix("idle-n")?.strip_suffix("-postfach.mem.json")?.parse().ok())
        .collect();
    ns.sort();
    if !ns.is_empty() {
        writeln!(o, "## (d) memory per IDLE connection (KiB, lower is better; target postfach ≤ 1/10 of Dovecot)\n")?;
        writeln!(o, "| connections | established pf / dc | postfach RSS/conn | Dovecot RSS/conn (sum of processes) | Dovecot/postfach (RSS) | postfach PSS/conn | Dovecot PSS/conn | Dovecot/postfach (PSS) | total RSS MiB pf / dc |")?;
        writeln!(o, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|")?;
        for n in ns {
            let p = load(dir, &format!("idle-n{n}-postfach.mem.json")).unwrap_or(Value::Null);
            let d = load(dir, &format!("idle-n{n}-dovecot.mem.json")).unwrap_or(Value::Null);
            let per = |v: &Value, k: &str| -> Option<f64> {
                let est = f(v, "established")?;
                if est <= 0.0 {
                    return None;
                }
                Some((f(v, &format!("loaded_{k}_kb"))? - f(v, &format!("baseline_{k}_kb"))?) / est)
            };
            let tot = |v: &Value| f(v, "loaded_rss_kb").map(|x| x / 1024.0);
            writeln!(
                o,
                "| {n} | {} / {} | {} | {} | {} | {} | {} | {} | {} / {} |",
                num(f(&p, "established"), 0),
                num(f(&d, "established"), 0),
                num(per(&p, "rss"), 1),
                num(per(&d, "rss"), 1),
                ratio(per(&d, "rss"), per(&p, "rss")),
                num(per(&p, "pss"), 1),
                num(per(&d, "pss"), 1),
                ratio(per(&d, "pss"), per(&p, "pss")),
                num(tot(&p), 0),
                num(tot(&d), 0),
            )?;
        }
        writeln!(o)?;
    }
    Ok(o)
}
