//! `serve` with `[server] workers = N` above 1 (or `serve --workers N`): one
//! supervisor process and N worker processes, so that one machine holds more
//! connections than one process's open-file limit allows (Dovecot runs many
//! `imap` processes and nginx has `worker_processes` for the same reason).
//!
//! - The supervisor binds every listener itself (so `127.0.0.1:0` is resolved
//!   before any worker starts), then starts each worker as this same
//!   executable with the hidden `worker` command. Its standard input is one
//!   end of a Unix `SOCK_SEQPACKET` pair; the supervisor sends one message on
//!   it: the worker's index, the configuration (TOML) and the listening
//!   sockets themselves (`SCM_RIGHTS`). No descriptor numbers or inherited
//!   close-on-exec flags are involved.
//! - All workers accept from the same listening sockets: one accept queue in
//!   the kernel. A worker at its connection budget
//!   ([`crate::imap::server::connection_budget`]) stops accepting and the
//!   others take the connections (with `SO_REUSEPORT` the kernel would keep
//!   handing connections to the full worker's own queue).
//! - SIGTERM or SIGINT to the supervisor is passed on to every worker as
//!   SIGTERM; it waits for them (30 s, then SIGKILL) and exits. A worker that
//!   exits otherwise is started again after a pause that doubles, from 100 ms
//!   up to 30 s, while workers keep dying within 10 s of their start.
//! - A worker whose supervisor is gone (even killed with SIGKILL) reads the
//!   end of its standard input and shuts down like at SIGTERM.
//! - Changes committed in one worker reach the IDLE and NOTIFY sessions of the
//!   others through [`crate::notify`]: each worker binds its own socket and
//!   forwards what its store commits publish ([`store::Store::set_commit_hook`]).
//!
//! - The per-IP and per-account connection limits (`[limits]
//!   max_connections_per_*`) are counted by the supervisor for all workers
//!   ([`Tally`]): a worker asks on its channel before it takes a place and
//!   says when it gives one back; a worker's places are given back when its
//!   channel closes (it exited). A place costs one round trip to the
//!   supervisor, at connection and at login.
//!
//! What stays per worker: the credential cache (a login may pay for Argon2
//! once per worker) and the mailbox snapshot cache (checked against the
//! database at every use, so other processes' writes are seen). Writes from
//! several workers to one account are serialised by SQLite's write lock
//! (each waits up to the 5 s busy timeout), each worker still grouping its
//! own writers into one commit. Only worker 0 prunes old tombstones.

use std::collections::HashMap;
use std::io::{IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use rustix::net::{
    AddressFamily, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, ReturnFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags, SocketFlags, SocketType,
};
use tokio::net::UnixDatagram;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

use crate::config::Config;
use crate::imap::server::{shutdown_signal, take_back, Listeners, Server};

/// The listeners a worker may be handed, in the order they are sent.
const KINDS: [&str; 5] = ["imap", "imaps", "lmtp", "lmtp_unix", "managesieve"];
/// First line of the hand-over message: its format's version.
const MAGIC: &str = "postfach-worker 1";
/// Largest hand-over message (the configuration is a few KiB).
const MAX_HANDOFF: usize = 256 * 1024;
/// How long workers get to end their connections after SIGTERM.
const STOP_GRACE: Duration = Duration::from_secs(30);
/// Restart pauses: the first, the longest, and how long a worker must have
/// run for the pause to start over from the first.
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(30);
const HEALTHY_AFTER: Duration = Duration::from_secs(10);

/// The hand-over text: magic, index, listener kinds, then the configuration.
fn encode_handoff(index: usize, kinds: &[&str], config: &Config) -> anyhow::Result<String> {
    let toml = toml::to_string(config).context("cannot serialise the configuration")?;
    Ok(format!("{MAGIC}\n{index}\n{}\n{toml}", kinds.join(" ")))
}

fn decode_handoff(text: &str) -> anyhow::Result<(usize, Vec<String>, Config)> {
    let mut parts = text.splitn(4, '\n');
    if parts.next() != Some(MAGIC) {
        bail!("not a hand-over from `postfach serve` of this version");
    }
    let index = parts.next().and_then(|i| i.parse().ok()).context("hand-over without a worker index")?;
    let kinds = parts.next().unwrap_or_default().split_whitespace().map(str::to_string).collect();
    let config = Config::parse(parts.next().unwrap_or_default(), Path::new("(from the supervisor)"))?;
    Ok((index, kinds, config))
}

/// The bound listeners as descriptors to send, with their kinds.
fn listener_fds(l: Listeners) -> anyhow::Result<Vec<(&'static str, OwnedFd)>> {
    let tcp = |l: tokio::net::TcpListener| l.into_std().map(OwnedFd::from);
    let mut out = Vec::new();
    let Listeners { imap, imaps, lmtp, lmtp_unix, managesieve } = l;
    for (kind, l) in [("imap", imap), ("imaps", imaps), ("lmtp", lmtp), ("managesieve", managesieve)] {
        if let Some(l) = l {
            out.push((kind, tcp(l)?));
        }
    }
    if let Some(l) = lmtp_unix {
        out.push(("lmtp_unix", l.into_std().map(OwnedFd::from)?));
    }
    // The order of KINDS, which the worker does not rely on but logs read better in.
    out.sort_by_key(|(k, _)| KINDS.iter().position(|x| x == k));
    Ok(out)
}

/// A worker's listeners from the descriptors it was handed (in a runtime).
fn listeners_from_fds(fds: impl IntoIterator<Item = (String, OwnedFd)>) -> anyhow::Result<Listeners> {
    let tcp = |fd: OwnedFd| -> std::io::Result<tokio::net::TcpListener> {
        let l = std::net::TcpListener::from(fd);
        l.set_nonblocking(true)?;
        tokio::net::TcpListener::from_std(l)
    };
    let mut l = Listeners::default();
    for (kind, fd) in fds {
        match kind.as_str() {
            "imap" => l.imap = Some(tcp(fd)?),
            "imaps" => l.imaps = Some(tcp(fd)?),
            "lmtp" => l.lmtp = Some(tcp(fd)?),
            "managesieve" => l.managesieve = Some(tcp(fd)?),
            "lmtp_unix" => {
                let u = std::os::unix::net::UnixListener::from(fd);
                u.set_nonblocking(true)?;
                l.lmtp_unix = Some(tokio::net::UnixListener::from_std(u)?);
            }
            other => bail!("unknown listener kind {other:?} in the hand-over"),
        }
    }
    Ok(l)
}

fn send_handoff(sock: &OwnedFd, text: &str, fds: &[BorrowedFd<'_>]) -> anyhow::Result<()> {
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(KINDS.len()))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    if !control.push(SendAncillaryMessage::ScmRights(fds)) {
        bail!("too many listeners to hand over");
    }
    let sent = rustix::net::sendmsg(sock, &[IoSlice::new(text.as_bytes())], &mut control, SendFlags::empty())
        .context("cannot hand the listeners to a worker")?;
    if sent != text.len() {
        bail!("the hand-over to a worker was cut short");
    }
    Ok(())
}

fn receive_handoff(sock: impl AsFd) -> anyhow::Result<(String, Vec<OwnedFd>)> {
    let mut buf = vec![0u8; MAX_HANDOFF];
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(KINDS.len()))];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    let msg = rustix::net::recvmsg(sock, &mut [IoSliceMut::new(&mut buf)], &mut control, RecvFlags::CMSG_CLOEXEC)
        .context("no hand-over on standard input (`worker` is started by `serve --workers N`, not by hand)")?;
    let fds: Vec<OwnedFd> = control
        .drain()
        .filter_map(|m| match m {
            RecvAncillaryMessage::ScmRights(fds) => Some(fds.collect::<Vec<_>>()),
            _ => None,
        })
        .flatten()
        .collect();
    if msg.flags.intersects(ReturnFlags::TRUNC | ReturnFlags::CTRUNC) {
        bail!("the hand-over from the supervisor was truncated");
    }
    let text = String::from_utf8(buf[..msg.bytes].to_vec()).context("the hand-over is not UTF-8")?;
    Ok((text, fds))
}

/// The `worker` command: receives the hand-over on standard input, serves
/// until SIGTERM, SIGINT or the supervisor's end.
pub fn run_worker(data_dir: &Path) -> anyhow::Result<()> {
    // Started as /proc/self/exe, the process would be called `exe` in top and pgrep.
    let _ = rustix::thread::set_name(c"postfach");
    let (text, fds) = receive_handoff(std::io::stdin())?;
    let (index, kinds, config) = decode_handoff(&text)?;
    if kinds.len() != fds.len() {
        bail!("the hand-over names {} listeners but carries {}", kinds.len(), fds.len());
    }
    let store = crate::admin::open_store(data_dir, false)?;
    let (tls, _) = crate::tls::load_or_generate(&config.tls, data_dir).context("cannot set up TLS")?;
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let listeners = listeners_from_fds(kinds.into_iter().zip(fds))?;
        // The channel carries the connection limits' questions from now on;
        // its end means the supervisor is gone.
        let (gone_tx, gone_rx) = tokio::sync::oneshot::channel::<()>();
        let channel = rustix::io::dup(std::io::stdin()).context("cannot take the supervisor's channel")?;
        let tally = Arc::new(Tally::start(channel, gone_tx).context("cannot use the supervisor's channel")?);
        let server = Server::new(config, store.clone(), tls, listeners, index == 0, Some(tally))?;
        // Before any account opens: every account's commits are forwarded.
        if let Some(own) = server.notify_socket() {
            store.set_commit_hook(crate::notify::forward_hook(data_dir, own)?);
        }
        tracing::info!(worker = index, pid = std::process::id(), "worker serving");
        server
            .run(async {
                tokio::select! {
                    _ = shutdown_signal() => {}
                    _ = gone_rx => tracing::warn!(worker = index, "the supervisor is gone; stopping"),
                }
            })
            .await
    })
}

/// What the supervisor waits for.
enum Event {
    Exited { index: usize, pid: u32, status: String },
    Restart(usize),
}

struct Running {
    pid: u32,
    started: Instant,
}

struct Supervisor {
    data_dir: PathBuf,
    exe: PathBuf,
    config: Config,
    fds: Vec<(&'static str, OwnedFd)>,
    running: Vec<Option<Running>>,
    backoff: Vec<Duration>,
    /// Connection places taken in all workers.
    places: Arc<Mutex<HashMap<String, u32>>>,
}

impl Supervisor {
    fn start(&mut self, index: usize, events: &mut JoinSet<Event>) -> anyhow::Result<()> {
        let text = encode_handoff(index, &self.fds.iter().map(|(k, _)| *k).collect::<Vec<_>>(), &self.config)?;
        let (ours, theirs) =
            rustix::net::socketpair(AddressFamily::UNIX, SocketType::SEQPACKET, SocketFlags::CLOEXEC, None)
                .context("cannot create a worker's channel")?;
        // Named like us in `ps`, not after /proc/self/exe.
        let name = std::env::args_os().next().unwrap_or_else(|| "postfach".into());
        let mut child = tokio::process::Command::new(&self.exe)
            .arg0(name)
            .arg("--data")
            .arg(&self.data_dir)
            .arg("worker")
            .stdin(Stdio::from(theirs))
            .spawn()
            .with_context(|| format!("cannot start a worker ({})", self.exe.display()))?;
        let pid = child.id().unwrap_or(0);
        let fds: Vec<BorrowedFd<'_>> = self.fds.iter().map(|(_, fd)| fd.as_fd()).collect();
        if let Err(e) = send_handoff(&ours, &text, &fds) {
            let _ = child.start_kill();
            return Err(e);
        }
        tracing::info!(worker = index, pid, "worker started");
        // Our end of the worker's standard input answers its connection-limit
        // questions; it closes when we are gone, which tells the worker.
        let channel = datagrams(ours).context("cannot watch a worker's channel")?;
        tokio::spawn(answer_tally(channel, self.places.clone()));
        self.running[index] = Some(Running { pid, started: Instant::now() });
        events.spawn(async move {
            let status = match child.wait().await {
                Ok(s) => s.to_string(),
                Err(e) => format!("cannot wait for it: {e}"),
            };
            Event::Exited { index, pid, status }
        });
        Ok(())
    }

    /// A worker ended: returns the pause before starting it again.
    fn exited(&mut self, index: usize) -> Duration {
        let lived = self.running[index].take().map(|r| r.started.elapsed()).unwrap_or_default();
        let pause =
            if lived < HEALTHY_AFTER { (self.backoff[index] * 2).clamp(BACKOFF_MIN, BACKOFF_MAX) } else { BACKOFF_MIN };
        self.backoff[index] = pause;
        pause
    }

    fn signal_all(&self, signal: rustix::process::Signal) {
        for r in self.running.iter().flatten() {
            if let Some(pid) = i32::try_from(r.pid).ok().and_then(rustix::process::Pid::from_raw) {
                let _ = rustix::process::kill_process(pid, signal);
            }
        }
    }

    /// Waits until every worker exited or `limit` passed.
    async fn wait_all(&mut self, events: &mut JoinSet<Event>, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        while self.running.iter().any(Option::is_some) {
            match tokio::time::timeout_at(deadline, events.join_next()).await {
                Ok(Some(Ok(Event::Exited { index, pid, status }))) => {
                    tracing::info!(worker = index, pid, %status, "worker stopped");
                    self.running[index] = None;
                }
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => return,
            }
        }
    }
}

/// `serve` with more than one worker: binds the listeners, starts and watches
/// the workers until SIGTERM or SIGINT, then stops them.
pub fn supervise(data_dir: &Path, config: Config) -> anyhow::Result<()> {
    let n = config.server.workers;
    // Exec'ing /proc/self/exe starts the very binary that is running, even
    // when an upgrade replaced the file on disk meanwhile.
    let exe = Some(PathBuf::from("/proc/self/exe"))
        .filter(|p| p.exists())
        .map_or_else(std::env::current_exe, Ok)
        .context("cannot find the postfach executable")?;
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let fds = listener_fds(Listeners::bind(&config).await?)?;
        let mut sup = Supervisor {
            data_dir: data_dir.to_path_buf(),
            exe,
            config,
            fds,
            running: (0..n).map(|_| None).collect(),
            backoff: vec![Duration::ZERO; n],
            places: Arc::default(),
        };
        let mut events = JoinSet::new();
        for i in 0..n {
            sup.start(i, &mut events)?;
        }
        tracing::info!(workers = n, pid = std::process::id(), "supervisor running");
        let shutdown = shutdown_signal();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                Some(event) = events.join_next() => match event {
                    Ok(Event::Exited { index, pid, status }) => {
                        let pause = sup.exited(index);
                        tracing::warn!(worker = index, pid, %status, ?pause, "worker exited; starting it again");
                        events.spawn(async move {
                            tokio::time::sleep(pause).await;
                            Event::Restart(index)
                        });
                    }
                    Ok(Event::Restart(index)) => {
                        if let Err(e) = sup.start(index, &mut events) {
                            let pause = sup.exited(index);
                            tracing::error!(worker = index, error = %format!("{e:#}"), ?pause, "cannot start worker");
                            events.spawn(async move {
                                tokio::time::sleep(pause).await;
                                Event::Restart(index)
                            });
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "supervisor task failed"),
                },
            }
        }
        tracing::info!("stopping workers");
        sup.signal_all(rustix::process::Signal::TERM);
        sup.wait_all(&mut events, STOP_GRACE).await;
        if sup.running.iter().any(Option::is_some) {
            tracing::warn!("workers still running after {STOP_GRACE:?}; killing them");
            sup.signal_all(rustix::process::Signal::KILL);
            sup.wait_all(&mut events, Duration::from_secs(5)).await;
        }
        Ok(())
    })
}

// ---------------------------------------------------------------- connection limits

/// A worker's side of the connection limits counted by the supervisor. The
/// channel carries one datagram per message: `A <id> <max> <key>` (take a
/// place for `key` unless `max` are taken), answered `R <id> 1` or `R <id> 0`,
/// and `F <key>` (a place given back).
pub struct Tally {
    requests: mpsc::UnboundedSender<TallyRequest>,
}

enum TallyRequest {
    Take { key: String, max: u32, reply: oneshot::Sender<bool> },
    Give(String),
}

impl Tally {
    /// Serves the worker's end of `channel` in a task; `gone` fires when the
    /// supervisor closed it.
    fn start(channel: OwnedFd, gone: oneshot::Sender<()>) -> std::io::Result<Tally> {
        let channel = datagrams(channel)?;
        let (requests, rx) = mpsc::unbounded_channel();
        tokio::spawn(ask_tally(channel, rx, gone));
        Ok(Tally { requests })
    }

    /// Takes a place for `key` unless `max` are taken in all workers. Without
    /// a supervisor (it is gone: the worker is stopping) there is none.
    pub async fn take(&self, key: String, max: u32) -> bool {
        let (reply, answer) = oneshot::channel();
        self.requests.send(TallyRequest::Take { key, max, reply }).is_ok() && answer.await.unwrap_or(false)
    }

    /// Gives back a place taken with [`Tally::take`].
    pub fn give(&self, key: String) {
        let _ = self.requests.send(TallyRequest::Give(key));
    }
}

/// The channel (a `SOCK_SEQPACKET` socket: one message per datagram, and an
/// end) as a tokio socket; only `send` and `recv` are used on it, which are
/// the same system calls for both kinds.
fn datagrams(fd: OwnedFd) -> std::io::Result<UnixDatagram> {
    let socket = std::os::unix::net::UnixDatagram::from(fd);
    socket.set_nonblocking(true)?;
    UnixDatagram::from_std(socket)
}

/// One message from `channel`; `None` at its end.
async fn receive(channel: &UnixDatagram, buf: &mut [u8]) -> Option<String> {
    match channel.recv(buf).await {
        Ok(0) | Err(_) => None,
        Ok(n) => Some(String::from_utf8_lossy(&buf[..n]).into_owned()),
    }
}

/// The worker's task: sends the requests, hands the answers back.
async fn ask_tally(
    channel: UnixDatagram,
    mut requests: mpsc::UnboundedReceiver<TallyRequest>,
    gone: oneshot::Sender<()>,
) {
    let mut waiting: HashMap<u64, oneshot::Sender<bool>> = HashMap::new();
    let mut next = 0u64;
    let mut buf = vec![0u8; 1024];
    loop {
        tokio::select! {
            request = requests.recv() => {
                let text = match request {
                    Some(TallyRequest::Take { key, max, reply }) => {
                        next += 1;
                        waiting.insert(next, reply);
                        format!("A {next} {max} {key}")
                    }
                    Some(TallyRequest::Give(key)) => format!("F {key}"),
                    None => return,
                };
                if channel.send(text.as_bytes()).await.is_err() {
                    break;
                }
            }
            answer = receive(&channel, &mut buf) => {
                let Some(answer) = answer else { break };
                let mut words = answer.split(' ');
                if let (Some("R"), Some(id), Some(yes)) = (words.next(), words.next(), words.next()) {
                    if let Some(reply) = id.parse().ok().and_then(|id| waiting.remove(&id)) {
                        let _ = reply.send(yes == "1");
                    }
                }
            }
        }
    }
    // The supervisor is gone; whoever waits gets no place.
    let _ = gone.send(());
}

/// The supervisor's task for one worker: answers its questions from the
/// places of all workers, and gives back this worker's when it is gone.
async fn answer_tally(channel: UnixDatagram, places: Arc<Mutex<HashMap<String, u32>>>) {
    let mut held: HashMap<String, u32> = HashMap::new();
    let mut buf = vec![0u8; 1024];
    while let Some(message) = receive(&channel, &mut buf).await {
        let reply = {
            let mut places = places.lock().unwrap_or_else(|p| p.into_inner());
            match message.split_once(' ') {
                Some(("A", rest)) => {
                    let mut parts = rest.splitn(3, ' ');
                    let (id, max, key) = (parts.next(), parts.next().and_then(|m| m.parse::<u32>().ok()), parts.next());
                    let (Some(id), Some(max), Some(key)) = (id, max, key) else { continue };
                    let n = places.entry(key.to_string()).or_insert(0);
                    let yes = *n < max;
                    if yes {
                        *n += 1;
                        *held.entry(key.to_string()).or_insert(0) += 1;
                    }
                    Some(format!("R {id} {}", u8::from(yes)))
                }
                Some(("F", key)) => {
                    if take_back(&mut held, key, 1) > 0 {
                        take_back(&mut places, key, 1);
                    }
                    None
                }
                _ => None,
            }
        };
        if let Some(reply) = reply {
            if channel.send(reply.as_bytes()).await.is_err() {
                break;
            }
        }
    }
    let mut places = places.lock().unwrap_or_else(|p| p.into_inner());
    for (key, n) in held {
        take_back(&mut places, &key, n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handoff_round_trips() {
        let mut config = Config::default();
        config.server.workers = 3;
        config.listen.imaps = None;
        config.sieve.spamtest_header = Some("X-Spam: score=(-?[0-9.]+)".into());
        let text = encode_handoff(2, &["imap", "lmtp"], &config).unwrap();
        let (index, kinds, back) = decode_handoff(&text).unwrap();
        assert_eq!((index, kinds), (2, vec!["imap".to_string(), "lmtp".to_string()]));
        assert_eq!(back, config);
        assert!(decode_handoff("something else\n0\n\n").is_err());
    }

    /// Listening sockets survive the trip through a SEQPACKET pair: a
    /// connection to the original address is accepted from the received one.
    #[tokio::test]
    async fn listeners_travel_over_the_channel() {
        let config = Config {
            listen: crate::config::Listen {
                imap: Some("127.0.0.1:0".parse().unwrap()),
                imaps: None,
                lmtp: Some("127.0.0.1:0".parse().unwrap()),
                lmtp_socket: None,
                managesieve: None,
            },
            ..Config::default()
        };
        let bound = Listeners::bind(&config).await.unwrap();
        let imap_addr = bound.imap.as_ref().unwrap().local_addr().unwrap();
        let fds = listener_fds(bound).unwrap();
        let (a, b) =
            rustix::net::socketpair(AddressFamily::UNIX, SocketType::SEQPACKET, SocketFlags::CLOEXEC, None).unwrap();
        let borrowed: Vec<BorrowedFd<'_>> = fds.iter().map(|(_, f)| f.as_fd()).collect();
        send_handoff(&a, "hello", &borrowed).unwrap();
        let (text, got) = receive_handoff(&b).unwrap();
        assert_eq!((text.as_str(), got.len()), ("hello", 2));
        let kinds = fds.iter().map(|(k, _)| k.to_string());
        let l = listeners_from_fds(kinds.zip(got)).unwrap();
        let _client = tokio::net::TcpStream::connect(imap_addr).await.unwrap();
        let (_, peer) = l.imap.unwrap().accept().await.unwrap();
        assert!(peer.ip().is_loopback());
        assert!(l.lmtp.is_some() && l.imaps.is_none());
    }
}
