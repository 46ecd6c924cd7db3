//! IDLE.

use std::time::Duration;

use imap_proto::{Response, Tag};

use super::{Done, Session};
use crate::imap::connection::LineRead;
use crate::imap::error::{ImapError, Result};

impl Session {
    /// RFC 9051 §6.3.13 IDLE (RFC 2177): `idle = "IDLE" CRLF "DONE"`.
    /// Changes by other sessions are sent as they happen, EXPUNGE included.
    /// Bytes after DONE stay buffered and are read as the next command
    /// (clients pipeline after DONE).
    pub(super) async fn cmd_idle(&mut self, _tag: &Tag) -> Result<Done> {
        self.write(&Response::Continue { text: "idling".into() });
        self.sync_selected(true).await?;
        self.conn.flush().await?;
        let max = self.shared.config.limits.max_line_length;
        let mut line = Vec::new();
        let limit = Duration::from_secs(self.shared.config.limits.idle_timeout_authenticated);
        let deadline = tokio::time::Instant::now() + limit;
        // `* OK Still here` below common NAT timeouts (`[sync] idle_keepalive`).
        let keepalive = Duration::from_secs(self.shared.config.sync.idle_keepalive.max(1));
        loop {
            let Some(feed) = self.feed.as_mut() else {
                return Err(ImapError::Internal("IDLE without a change feed".into()));
            };
            tokio::select! {
                read = self.conn.read_line(&mut line, max) => {
                    match read? {
                        LineRead::Line if line.eq_ignore_ascii_case(b"DONE") => break,
                        LineRead::Line | LineRead::TooLong => {
                            return Err(ImapError::bad("expected DONE"));
                        }
                        LineRead::Eof => return Err(ImapError::Bye("connection closed during IDLE".into())),
                    }
                }
                change = feed.recv() => {
                    // Lagged or a real change: either way, resync from the store.
                    if let Err(tokio::sync::broadcast::error::RecvError::Closed) = change {
                        return Err(ImapError::Bye("server shutting down".into()));
                    }
                    // RFC 5465 §4: during IDLE, exactly the NOTIFY events.
                    match change {
                        Ok(change) if self.notify.is_some() => self.notify_change(change).await?,
                        _ => self.sync_selected_now(true).await?,
                    }
                    self.conn.flush().await?;
                }
                _ = tokio::time::sleep(keepalive) => {
                    self.write(&Response::Status { tag: None, kind: imap_proto::StatusKind::Ok, code: None, text: "Still here".into() });
                    self.conn.flush().await?;
                }
                _ = tokio::time::sleep_until(deadline) => {
                    return Err(ImapError::Bye("autologout: IDLE for too long".into()));
                }
            }
        }
        Ok(Done::ok("IDLE terminated"))
    }
}
