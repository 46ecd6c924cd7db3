//! Crash safety (DESIGN.md §2 invariant 3): the real binary is killed with
//! SIGKILL at a random moment while several LMTP senders deliver; after each
//! kill, every message that got a 250 is in the store exactly once, UIDs are
//! unique, and no row refers to a missing blob. At least 20 cycles.

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Lmtp, Raw};

/// The server process; killed (SIGKILL) when dropped, even if the test fails.
struct Server {
    child: Child,
    lmtp: SocketAddr,
    imap: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `postfach serve` on free ports and reads the bound addresses from
/// its log (plain text when stderr is a pipe).
fn start(data: &Path) -> Server {
    let (child, rx) =
        common::serve_process(data, &["--imap", "127.0.0.1:0", "--imaps", "none", "--lmtp", "127.0.0.1:0"]);
    let (mut lmtp, mut imap) = (None, None);
    let deadline = Instant::now() + Duration::from_secs(20);
    while lmtp.is_none() || imap.is_none() {
        let line = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())).expect("server start log");
        if line.contains("LMTP listening") {
            lmtp = common::logged_addr(&line);
        } else if line.contains("IMAP (STARTTLS) listening") {
            imap = common::logged_addr(&line);
        }
    }
    Server { child, lmtp: lmtp.unwrap(), imap: imap.unwrap() }
}

/// Delivers messages until the connection breaks; records each acknowledged Message-ID.
async fn sender(addr: SocketAddr, tag: String, acked: Arc<Mutex<Vec<String>>>) {
    for i in 0.. {
        let id = format!("{tag}-{i}@crash.test");
        let msg = format!("From: a@crash.test\r\nSubject: {id}\r\nMessage-ID: <{id}>\r\n\r\nbody {i}\r\n");
        // Any failure (the server died mid-transaction) ends this sender; the
        // client helpers panic on a closed connection, so run it as a task.
        let ok = tokio::time::timeout(Duration::from_secs(5), async move {
            let mut l = Lmtp::hello(addr).await;
            l.deliver("s@crash.test", &["alice@example.test"], msg.as_bytes()).await
        });
        match tokio::spawn(ok).await {
            Ok(Ok(r)) if r.len() == 1 && r[0].starts_with("250 ") => acked.lock().unwrap().push(id),
            _ => return,
        }
    }
}

/// Message-ID → count, after checking UIDs and blobs.
async fn stored_ids(data: &Path) -> HashMap<String, usize> {
    let store = store::Store::open(data).unwrap();
    let id = store.account_id(common::USER).unwrap().unwrap();
    let acc = store.account(id).unwrap();
    let inbox = acc.mailbox("INBOX").await.unwrap().unwrap();
    let uids: Vec<u32> = acc.summaries(inbox.id).await.unwrap().iter().map(|s| s.uid).collect();
    let mut sorted = uids.clone();
    sorted.dedup();
    assert_eq!(sorted.len(), uids.len(), "duplicate UIDs");
    assert!(inbox.uid_next > uids.last().copied().unwrap_or(0));
    let mut ids = HashMap::new();
    for r in acc.records(inbox.id, uids).await.unwrap() {
        assert!(store.blobs().exists(&r.blob), "uid {} refers to a missing blob", r.uid);
        *ids.entry(r.meta.message_id).or_insert(0) += 1;
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_during_delivery_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_path_buf();
    {
        let store = store::Store::open(&data).unwrap();
        store.create_account(common::USER, &postfach::auth::hash_password(common::PASSWORD)).unwrap();
    }
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let started = Instant::now();
    let mut cycles = 0;
    while cycles < 20 || (cycles < 40 && started.elapsed() < Duration::from_secs(30)) {
        let server = start(&data);
        let senders: Vec<_> =
            (0..4).map(|s| tokio::spawn(sender(server.lmtp, format!("c{cycles}s{s}"), acked.clone()))).collect();
        let wait = 30 + rand::random::<u64>() % 300;
        tokio::time::sleep(Duration::from_millis(wait)).await;
        drop(server); // SIGKILL
        for s in senders {
            let _ = s.await;
        }
        let ids = stored_ids(&data).await;
        for id in acked.lock().unwrap().iter() {
            assert_eq!(ids.get(id), Some(&1), "cycle {cycles}: acknowledged {id} is not stored exactly once");
        }
        assert!(ids.values().all(|&n| n == 1), "cycle {cycles}: a message is stored twice");
        cycles += 1;
    }
    let acked = acked.lock().unwrap().len();
    eprintln!("{cycles} kill -9 cycles in {:?}; {acked} acknowledged messages all present once", started.elapsed());
    assert!(acked > 0, "no delivery was acknowledged at all");
    // The restarted server serves them all.
    let server = start(&data);
    let mut raw = Raw::login(server.imap).await;
    let sel = raw.cmd("SELECT INBOX").await;
    let exists: usize = sel.iter().find_map(|l| l.strip_suffix(" EXISTS")?.strip_prefix("* ")?.parse().ok()).unwrap();
    assert!(exists >= acked, "{exists} < {acked}");
}
