//! `postfach-bench`: see `postfach-bench --help` and bench/RESULTS.md.

use anyhow::Result;
use clap::{Parser, Subcommand};
use postfach_bench::{big, corpus, idle, lmtp, mixed, report};
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "postfach-bench", about = "Load generator and corpus generator for IMAP/LMTP servers")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(clap::Args, Clone)]
struct Conn {
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    #[arg(long)]
    port: u16,
}

#[derive(Subcommand)]
enum Cmd {
    /// Write a deterministic corpus of COUNT messages to DIR (000001.eml, …).
    Corpus {
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 1000)]
        count: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// The mixed imaptest-like client model.
    Imap {
        #[command(flatten)]
        conn: Conn,
        /// Login names; %d is replaced by 1..=users.
        #[arg(long, default_value = "bench%d")]
        user_pattern: String,
        #[arg(long, default_value_t = 10)]
        users: usize,
        #[arg(long)]
        password: String,
        #[arg(long, default_value_t = 10)]
        clients: usize,
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        /// Stop after this many operations (0 = only the time bound).
        #[arg(long, default_value_t = 0)]
        max_ops: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long)]
        corpus: PathBuf,
        /// Untimed setup: ensure each user's INBOX has at least this many messages.
        #[arg(long, default_value_t = 50)]
        prefill: usize,
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// LMTP delivery load.
    Lmtp {
        #[command(flatten)]
        conn: Conn,
        #[arg(long, default_value_t = 1)]
        senders: usize,
        #[arg(long, default_value_t = 1000)]
        messages: usize,
        /// Recipient addresses; %d is replaced by 1..=users.
        #[arg(long, default_value = "bench%d@localhost")]
        rcpt_pattern: String,
        #[arg(long, default_value_t = 10)]
        users: usize,
        #[arg(long, default_value_t = 3)]
        max_rcpts: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long)]
        corpus: PathBuf,
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Fill one mailbox with COUNT messages, then time the large-mailbox operations.
    Bigmailbox {
        #[command(flatten)]
        conn: Conn,
        #[arg(long, default_value = "big1")]
        user: String,
        #[arg(long)]
        password: String,
        #[arg(long, default_value_t = 100_000)]
        count: usize,
        #[arg(long, default_value_t = 3)]
        repeat: usize,
        #[arg(long, default_value = corpus::SEARCH_WORD)]
        word: String,
        #[arg(long, default_value = corpus::RARE_SENDER)]
        from: String,
        /// Only corpus messages up to this size are used for the fill.
        #[arg(long, default_value_t = 32 * 1024)]
        max_size: usize,
        /// APPENDs in flight on the pipelined fill connection.
        #[arg(long, default_value_t = 64)]
        window: usize,
        /// Only the timed operations whose names contain one of these
        /// (comma-separated, case-insensitive), e.g. `select,flags,envelope`.
        #[arg(long)]
        ops: Option<String>,
        #[arg(long)]
        corpus: PathBuf,
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Print the side-by-side Markdown table from the JSON files in DIR.
    Report {
        #[arg(long)]
        dir: PathBuf,
    },
    /// Open N logged-in connections in IDLE and hold them.
    Idle {
        #[command(flatten)]
        conn: Conn,
        #[arg(long, default_value = "bench%d")]
        user_pattern: String,
        #[arg(long, default_value_t = 10)]
        users: usize,
        #[arg(long)]
        password: String,
        #[arg(long)]
        connections: usize,
        /// Connections being set up at once.
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// Seconds to hold after all are established.
        #[arg(long, default_value_t = 20)]
        hold: u64,
        /// Written (with the established count) once all connections are in IDLE.
        #[arg(long)]
        ready_file: Option<PathBuf>,
        #[arg(long, default_value_t = 60)]
        setup_timeout: u64,
        /// Generator processes, each holding a share (0: one per 15 000
        /// connections; one process holds at most its `ulimit -n`).
        #[arg(long, default_value_t = 0)]
        processes: usize,
        /// Source addresses 127.0.0.1 … 127.0.0.N, used in turn (0: one per
        /// 10 000 connections to 127.0.0.1; one address has ~28 000 ports).
        #[arg(long, default_value_t = 0)]
        sources: usize,
        /// Once all are idle, APPEND one message for the first user and wait
        /// this many seconds for its idle connections to see EXISTS (0: skip).
        #[arg(long, default_value_t = 10)]
        check_wait: u64,
        /// Internal: run as one generator process of a larger run, its
        /// connections numbered from this one.
        #[arg(long, hide = true)]
        child_first: Option<usize>,
        #[arg(long)]
        json: Option<PathBuf>,
    },
}

fn write_json<T: serde::Serialize>(path: &Option<PathBuf>, v: &T) -> Result<()> {
    if let Some(p) = path {
        std::fs::write(p, serde_json::to_string_pretty(v)?)?;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Report { dir } => print!("{}", report::report(&dir)?),
        Cmd::Corpus { out, count, seed } => {
            let bytes = corpus::write_dir(&out, count, seed)?;
            println!("wrote {count} messages, {bytes} bytes, to {}", out.display());
        }
        Cmd::Imap { conn, user_pattern, users, password, clients, seconds, max_ops, seed, corpus, prefill, json } => {
            let corpus = corpus::load_dir(&corpus)?;
            let o = mixed::Opts {
                host: conn.host,
                port: conn.port,
                user_pattern,
                users,
                password,
                clients,
                seconds,
                max_ops,
                seed,
                prefill,
                json: json.is_some(),
            };
            let r = mixed::run(o, corpus).await?;
            mixed::print(&r);
            write_json(&json, &r)?;
        }
        Cmd::Lmtp { conn, senders, messages, rcpt_pattern, users, max_rcpts, seed, corpus, json } => {
            let corpus = corpus::load_dir(&corpus)?;
            let o = lmtp::Opts {
                host: conn.host,
                port: conn.port,
                senders,
                messages,
                rcpt_pattern,
                users,
                max_rcpts,
                seed,
            };
            let r = lmtp::run(o, corpus).await?;
            lmtp::print(&r);
            write_json(&json, &r)?;
        }
        Cmd::Bigmailbox { conn, user, password, count, repeat, word, from, max_size, window, ops, corpus, json } => {
            let corpus = corpus::load_dir(&corpus)?;
            let o = big::Opts {
                host: conn.host,
                port: conn.port,
                user,
                password,
                count,
                repeat,
                word,
                from,
                max_size,
                window,
                ops: ops.map(|s| s.split(',').map(|o| o.trim().to_ascii_lowercase()).collect()),
            };
            let r = big::run(o, &corpus).await?;
            big::print(&r);
            write_json(&json, &r)?;
        }
        Cmd::Idle {
            conn,
            user_pattern,
            users,
            password,
            connections,
            concurrency,
            hold,
            ready_file,
            setup_timeout,
            processes,
            sources,
            check_wait,
            child_first,
            json,
        } => {
            let o = idle::Opts {
                host: conn.host,
                port: conn.port,
                user_pattern,
                users,
                password,
                connections,
                concurrency,
                hold,
                ready_file,
                setup_timeout,
                processes,
                sources,
                check_wait,
            };
            if let Some(first) = child_first {
                return idle::child(o, first).await;
            }
            let r = idle::run(o).await?;
            println!(
                "idle: {}/{} established in {:.1}s, {} failed, {} still answered DONE after the hold",
                r.established, r.requested, r.setup_seconds, r.failed, r.still_open_after_hold
            );
            for e in &r.first_errors {
                println!("  error: {e}");
            }
            write_json(&json, &r)?;
        }
    }
    Ok(())
}
