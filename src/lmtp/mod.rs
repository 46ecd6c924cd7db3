//! LMTP (RFC 2033): how the MTA (Postfix, Exim, …) hands mail to postfach.
//!
//! Listeners on TCP (`[listen] lmtp`, `serve --lmtp`) and on a Unix socket
//! (`[listen] lmtp_socket`, Postfix `lmtp:unix:`) run one [`session`] per
//! connection. Commands are parsed with `smtp-proto`; the message is stored by
//! [`crate::delivery`]: once as a blob, one row per recipient, each `250`
//! only after that recipient's row committed (DESIGN.md §2 invariant 3).
//!
//! LMTP has no authentication (RFC 2033 §5 leaves it to the deployment):
//! keep the TCP listener on loopback or a trusted network, and the Unix
//! socket in a directory only the MTA can reach.

pub mod session;

use std::path::Path;
use std::sync::Arc;

use tokio::net::{TcpListener, UnixListener};
use tokio::task::JoinSet;

use crate::imap::server::{accept_failed, connection_permit, Shared};

/// Binds the Unix socket, replacing a stale socket file from a previous run.
/// The socket is made connectable by every local user (mode 0666), like the
/// TCP listener on loopback; restrict access with the directory's mode.
pub fn bind_unix(path: &Path) -> std::io::Result<UnixListener> {
    use std::os::unix::fs::{FileTypeExt as _, PermissionsExt as _};
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if meta.file_type().is_socket() {
            std::fs::remove_file(path)?;
        }
    }
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o666))?;
    Ok(listener)
}

/// Accepts LMTP connections on TCP until the task is dropped.
pub async fn accept_tcp(listener: TcpListener, shared: Arc<Shared>) {
    let mut conns = JoinSet::new();
    loop {
        let permit = connection_permit(&shared).await;
        match listener.accept().await {
            Ok((tcp, peer)) => {
                let _ = tcp.set_nodelay(true);
                let shared = shared.clone();
                conns.spawn(async move {
                    let _permit = permit;
                    session::run(shared, tcp, peer.to_string()).await
                });
            }
            Err(e) => accept_failed(e, "LMTP").await,
        }
        while conns.try_join_next().is_some() {}
    }
}

/// Accepts LMTP connections on a Unix socket until the task is dropped.
pub async fn accept_unix(listener: UnixListener, shared: Arc<Shared>) {
    let mut conns = JoinSet::new();
    loop {
        let permit = connection_permit(&shared).await;
        match listener.accept().await {
            Ok((stream, _)) => {
                let shared = shared.clone();
                conns.spawn(async move {
                    let _permit = permit;
                    session::run(shared, stream, "unix".to_string()).await
                });
            }
            Err(e) => accept_failed(e, "LMTP").await,
        }
        while conns.try_join_next().is_some() {}
    }
}

/// The name in the greeting and the LHLO reply.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_graphic()))
        .unwrap_or_else(|| "localhost".to_string())
}
