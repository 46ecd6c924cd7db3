//! Listeners: binds the configured addresses, accepts connections (implicit
//! TLS on the IMAPS port), and runs one task per connection until shutdown.
//! LMTP connections are served by [`crate::lmtp`]; the change notifications of
//! other processes by [`crate::notify`]. With `[server] workers` above 1 the
//! listeners are bound by the supervisor and handed to each worker process
//! ([`crate::workers`]), which runs a [`Server`] on them.
//!
//! A process serves at most [`connection_budget`] connections at once (all
//! listeners together): its open-file limit less a reserve for databases,
//! blobs and spool files. At the limit it stops accepting until a connection
//! ends; new connections wait in the kernel's queue, where another worker
//! takes them, instead of failing `accept` with EMFILE.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::fmt::Debug;
use std::future::Future;
use std::hash::Hash;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::sync::Mutex;

use anyhow::Context;
use tokio::net::{TcpListener, TcpStream, UnixListener};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

use super::connection::Stream;
use super::session;
use crate::config::Config;
use crate::workers::Tally;

/// What every connection shares.
pub struct Shared {
    pub config: Config,
    pub store: store::Store,
    pub tls: Arc<rustls::ServerConfig>,
    /// Where APPEND literals above the spool threshold are written.
    pub spool_dir: PathBuf,
    /// Open connections per peer IP (`limits.max_connections_per_ip`).
    pub per_ip: Counter<IpAddr>,
    /// Logged-in connections per account (`limits.max_connections_per_account`).
    pub per_account: Counter<store::AccountId>,
    /// Successful password checks remembered for `auth.cache_ttl` seconds.
    pub auth_cache: Arc<crate::auth::AuthCache>,
    /// Places for open connections, [`connection_budget`] in all.
    pub connections: Arc<Semaphore>,
}

/// Counts open things per key; a [`Slot`] gives its place back when dropped.
/// In a worker of `serve --workers N` the places are counted by the
/// supervisor for all workers ([`Tally`]), so a limit holds for the server
/// as a whole.
pub struct Counter<K> {
    local: Arc<Mutex<HashMap<K, u32>>>,
    /// The supervisor's count and this counter's prefix for its keys.
    tally: Option<(Arc<Tally>, &'static str)>,
}

impl<K: Eq + Hash + Clone + Debug> Counter<K> {
    pub fn new(tally: Option<(Arc<Tally>, &'static str)>) -> Self {
        Counter { local: Arc::default(), tally }
    }

    /// Takes a place for `key` unless `max` are taken.
    pub async fn acquire(&self, key: K, max: u32) -> Option<Slot<K>> {
        if let Some((tally, prefix)) = &self.tally {
            let name = format!("{prefix} {key:?}");
            return tally.take(name.clone(), max).await.then(|| Slot::Tally(tally.clone(), name));
        }
        let mut map = self.local.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.entry(key.clone()).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(Slot::Local(self.local.clone(), key))
    }
}

/// One taken place of a [`Counter`].
pub enum Slot<K: Eq + Hash> {
    Local(Arc<Mutex<HashMap<K, u32>>>, K),
    Tally(Arc<Tally>, String),
}

impl<K: Eq + Hash> Drop for Slot<K> {
    fn drop(&mut self) {
        match self {
            Slot::Local(map, key) => {
                take_back(&mut map.lock().unwrap_or_else(|e| e.into_inner()), key, 1);
            }
            Slot::Tally(tally, name) => tally.give(std::mem::take(name)),
        }
    }
}

/// Lowers `key`'s count by up to `n` (dropping it at 0); returns by how much.
pub(crate) fn take_back<K: Borrow<Q> + Eq + Hash, Q: Eq + Hash + ?Sized>(
    counts: &mut HashMap<K, u32>,
    key: &Q,
    n: u32,
) -> u32 {
    let Some(c) = counts.get_mut(key) else { return 0 };
    let taken = n.min(*c);
    *c -= taken;
    if *c == 0 {
        counts.remove(key);
    }
    taken
}

/// The bound sockets of the configured listeners.
#[derive(Default)]
pub struct Listeners {
    pub imap: Option<TcpListener>,
    pub imaps: Option<TcpListener>,
    pub lmtp: Option<TcpListener>,
    pub lmtp_unix: Option<UnixListener>,
    /// ManageSieve (RFC 5804), served by [`crate::managesieve`].
    pub managesieve: Option<TcpListener>,
}

impl Listeners {
    /// Binds every configured listener (port 0 picks a free port: tests use
    /// it) and logs where it listens.
    pub async fn bind(config: &Config) -> anyhow::Result<Listeners> {
        let l = Listeners {
            imap: bind_opt(config.listen.imap).await?,
            imaps: bind_opt(config.listen.imaps).await?,
            lmtp: bind_opt(config.listen.lmtp).await?,
            managesieve: bind_opt(config.listen.managesieve).await?,
            lmtp_unix: match &config.listen.lmtp_socket {
                None => None,
                Some(path) => {
                    Some(crate::lmtp::bind_unix(path).with_context(|| format!("cannot listen on {}", path.display()))?)
                }
            },
        };
        let addr = |l: &Option<TcpListener>| l.as_ref().and_then(|l| l.local_addr().ok());
        if let Some(a) = addr(&l.imap) {
            tracing::info!(addr = %a, "IMAP (STARTTLS) listening");
        }
        if let Some(a) = addr(&l.imaps) {
            tracing::info!(addr = %a, "IMAPS listening");
        }
        if let Some(a) = addr(&l.lmtp) {
            tracing::info!(addr = %a, "LMTP listening");
        }
        if let (Some(_), Some(path)) = (&l.lmtp_unix, &config.listen.lmtp_socket) {
            tracing::info!(path = %path.display(), "LMTP listening");
        }
        if let Some(a) = addr(&l.managesieve) {
            tracing::info!(addr = %a, "ManageSieve listening");
        }
        Ok(l)
    }
}

/// Bound listeners, ready to run.
pub struct Server {
    shared: Arc<Shared>,
    listeners: Listeners,
    /// `DATA/run/notify.d/<pid>.sock`: changes committed by other processes.
    notify: Option<crate::notify::Listener>,
    /// Prune old tombstones hourly (one worker does it for all).
    prune: bool,
}

impl Server {
    /// Binds every configured listener: the server of a single process.
    pub async fn bind(config: Config, store: store::Store, tls: Arc<rustls::ServerConfig>) -> anyhow::Result<Server> {
        let listeners = Listeners::bind(&config).await?;
        Server::new(config, store, tls, listeners, true, None)
    }

    /// A server on listeners bound elsewhere (a worker's, bound by the
    /// supervisor, which then also counts the connection limits: `tally`).
    pub fn new(
        config: Config,
        store: store::Store,
        tls: Arc<rustls::ServerConfig>,
        listeners: Listeners,
        prune: bool,
        tally: Option<Arc<Tally>>,
    ) -> anyhow::Result<Server> {
        let spool_dir = store.data_dir().join("tmp");
        std::fs::create_dir_all(&spool_dir).with_context(|| format!("cannot create {}", spool_dir.display()))?;
        // Without it, IDLE clients see other processes' changes only at their
        // next command; not a reason to refuse to start.
        let notify = crate::notify::bind(store.data_dir())
            .map_err(|e| tracing::warn!(error = %e, "cannot bind the change notification socket"))
            .ok();
        let auth_cache = Arc::new(crate::auth::AuthCache::new(std::time::Duration::from_secs(config.auth.cache_ttl)));
        let connections = Arc::new(Semaphore::new(connection_budget()));
        let shared = Shared {
            config,
            store,
            tls,
            spool_dir,
            per_ip: Counter::new(tally.clone().map(|t| (t, "ip"))),
            per_account: Counter::new(tally.map(|t| (t, "account"))),
            auth_cache,
            connections,
        };
        Ok(Server { shared: Arc::new(shared), listeners, notify, prune })
    }

    /// This process's change notification socket, if it could be bound.
    pub fn notify_socket(&self) -> Option<PathBuf> {
        self.notify.as_ref().map(|n| n.path().to_path_buf())
    }

    pub fn lmtp_addr(&self) -> Option<SocketAddr> {
        self.listeners.lmtp.as_ref().and_then(|l| l.local_addr().ok())
    }

    pub fn managesieve_addr(&self) -> Option<SocketAddr> {
        self.listeners.managesieve.as_ref().and_then(|l| l.local_addr().ok())
    }

    pub fn imap_addr(&self) -> Option<SocketAddr> {
        self.listeners.imap.as_ref().and_then(|l| l.local_addr().ok())
    }

    pub fn imaps_addr(&self) -> Option<SocketAddr> {
        self.listeners.imaps.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// Accepts connections until `shutdown` completes, then stops accepting
    /// and ends the open connections.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        let mut tasks = JoinSet::new();
        let Listeners { imap, imaps, lmtp, lmtp_unix, managesieve } = self.listeners;
        if let Some(l) = imap {
            tasks.spawn(accept_loop(l, self.shared.clone(), false));
        }
        if let Some(l) = imaps {
            tasks.spawn(accept_loop(l, self.shared.clone(), true));
        }
        if self.prune {
            tasks.spawn(prune_tombstones(self.shared.clone()));
        }
        if let Some(l) = lmtp {
            tasks.spawn(crate::lmtp::accept_tcp(l, self.shared.clone()));
        }
        if let Some(l) = lmtp_unix {
            tasks.spawn(crate::lmtp::accept_unix(l, self.shared.clone()));
        }
        if let Some(l) = managesieve {
            tasks.spawn(crate::managesieve::accept(l, self.shared.clone()));
        }
        if let Some(n) = self.notify {
            tasks.spawn(n.listen(self.shared.store.clone()));
        }
        shutdown.await;
        tracing::info!("shutting down");
        tasks.shutdown().await;
        Ok(())
    }
}

/// The entry point of `postfach serve` with one process: binds, then serves
/// until Ctrl-C or SIGTERM.
pub async fn serve(config: Config, store: store::Store, tls: Arc<rustls::ServerConfig>) -> anyhow::Result<()> {
    let server = Server::bind(config, store, tls).await?;
    server.run(shutdown_signal()).await
}

/// How many connections one process serves at once: its open-file limit
/// (raised to the hard limit first) less a reserve of an eighth, at least
/// 64, for SQLite files (three per open database), blobs being read or
/// written, spooled literals and the listeners themselves.
pub fn connection_budget() -> usize {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let raised = rustix::process::Rlimit { current: limit.maximum, maximum: limit.maximum };
        if setrlimit(Resource::Nofile, raised).is_ok() {
            limit = getrlimit(Resource::Nofile);
        }
    }
    // No limit at all: as many as a process can name in practice.
    let files = limit.current.unwrap_or(1 << 20).min(1 << 24) as usize;
    files.saturating_sub((files / 8).max(64)).max(1)
}

/// Waits for a place in the process's connection budget: a listener accepts
/// only with one in hand, and the connection's task keeps it until it ends.
pub async fn connection_permit(shared: &Shared) -> OwnedSemaphorePermit {
    if let Ok(p) = shared.connections.clone().try_acquire_owned() {
        return p;
    }
    // At most once a minute: at the limit, every ended connection lets one in.
    static LAST_WARNING: AtomicU64 = AtomicU64::new(0);
    let now = chrono::Utc::now().timestamp() as u64;
    if now.saturating_sub(LAST_WARNING.load(Ordering::Relaxed)) >= 60 {
        LAST_WARNING.store(now, Ordering::Relaxed);
        tracing::warn!("connection limit of this process reached; accepting again when a connection ends");
    }
    match shared.connections.clone().acquire_owned().await {
        Ok(p) => p,
        // The semaphore is never closed.
        Err(_) => std::future::pending().await,
    }
}

/// `accept` failed (EMFILE and friends, which the budget makes rare): back
/// off instead of spinning.
pub async fn accept_failed(e: std::io::Error, listener: &str) {
    tracing::warn!(error = %e, listener, "accept failed");
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
}

/// Completes at Ctrl-C (SIGINT) or SIGTERM.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

async fn bind_opt(addr: Option<SocketAddr>) -> anyhow::Result<Option<TcpListener>> {
    match addr {
        None => Ok(None),
        Some(a) => Ok(Some(TcpListener::bind(a).await.with_context(|| format!("cannot listen on {a}"))?)),
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, implicit_tls: bool) {
    let mut conns = JoinSet::new();
    loop {
        let permit = connection_permit(&shared).await;
        let (tcp, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                accept_failed(e, "IMAP").await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let shared = shared.clone();
        conns.spawn(async move {
            let _permit = permit;
            // RFC 9051 §7.1.5: BYE at greeting time when the server will not talk.
            let Some(_slot) = shared.per_ip.acquire(peer.ip(), shared.config.limits.max_connections_per_ip).await
            else {
                tracing::info!(%peer, "too many connections from this address");
                refuse(tcp, implicit_tls, &shared).await;
                return;
            };
            let stream = if implicit_tls {
                match tls_accept(&shared, tcp).await {
                    Some(s) => s,
                    None => return,
                }
            } else {
                Stream::Plain(tcp)
            };
            session::run(shared, stream, peer, implicit_tls).await;
        });
        // Reap finished connection tasks so the set does not grow forever.
        while conns.try_join_next().is_some() {}
    }
}

async fn tls_accept(shared: &Shared, tcp: TcpStream) -> Option<Stream> {
    let acceptor = tokio_rustls::TlsAcceptor::from(shared.tls.clone());
    match tokio::time::timeout(std::time::Duration::from_secs(30), acceptor.accept(tcp)).await {
        Ok(Ok(s)) => Some(Stream::Tls(Box::new(s))),
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "TLS handshake failed");
            None
        }
        Err(_) => None,
    }
}

/// Says `* BYE` to a connection over the per-IP cap (through TLS on the
/// implicit-TLS port), never a silent drop.
async fn refuse(tcp: TcpStream, implicit_tls: bool, shared: &Shared) {
    use tokio::io::AsyncWriteExt;
    const BYE: &[u8] = b"* BYE [UNAVAILABLE] too many connections from your address\r\n";
    if implicit_tls {
        if let Some(Stream::Tls(mut s)) = tls_accept(shared, tcp).await {
            let _ = s.write_all(BYE).await;
            let _ = s.shutdown().await;
        }
    } else {
        let mut tcp = tcp;
        let _ = tcp.write_all(BYE).await;
        let _ = tcp.shutdown().await;
    }
}

/// Drops tombstones older than `[sync] tombstone_retention_days`, hourly.
async fn prune_tombstones(shared: Arc<Shared>) {
    let retention = shared.config.sync.tombstone_retention_days.saturating_mul(86_400) as i64;
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        tick.tick().await;
        let cutoff = chrono::Utc::now().timestamp() - retention;
        let accounts = match shared.store.list_accounts() {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "cannot list accounts for tombstone pruning");
                continue;
            }
        };
        for info in accounts {
            let pruned = match shared.store.account(info.id) {
                Ok(account) => account.prune_tombstones(cutoff).await,
                Err(e) => Err(e),
            };
            match pruned {
                Ok(0) => {}
                Ok(n) => tracing::info!(account = %info.name, tombstones = n, "pruned old tombstones"),
                Err(e) => tracing::warn!(account = %info.name, error = %e, "tombstone pruning failed"),
            }
        }
    }
}
