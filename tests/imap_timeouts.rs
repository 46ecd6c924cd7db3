//! Auto-logout timers (RFC 9051 §5.4): an idle connection is ended with
//! `* BYE`, never silently. The defaults (60 s before login, 30 min after,
//! the RFC's floor) are shortened here through the config.

mod common;

use std::time::Duration;

use common::Raw;

#[tokio::test]
async fn unauthenticated_connection_is_logged_out_with_bye() {
    let server = common::start_with(|c| c.limits.idle_timeout_unauthenticated = 1).await;
    let mut raw = Raw::connect(server.addr).await;
    let l = raw.maybe_line(Duration::from_secs(3)).await.unwrap_or_default();
    assert!(l.starts_with("* BYE"), "{l}");
}

#[tokio::test]
async fn authenticated_connection_is_logged_out_with_bye() {
    let server = common::start_with(|c| c.limits.idle_timeout_authenticated = 1).await;
    let mut raw = Raw::login(server.addr).await;
    raw.cmd("SELECT INBOX").await;
    let l = raw.maybe_line(Duration::from_secs(3)).await.unwrap_or_default();
    assert!(l.starts_with("* BYE"), "{l}");
}

#[tokio::test]
async fn activity_keeps_a_connection_alive() {
    let server = common::start_with(|c| c.limits.idle_timeout_authenticated = 2).await;
    let mut raw = Raw::login(server.addr).await;
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert!(raw.cmd("NOOP").await.last().unwrap().starts_with("T OK"));
    }
}

#[tokio::test]
async fn idle_longer_than_the_limit_ends_with_bye() {
    let server = common::start_with(|c| {
        c.limits.idle_timeout_authenticated = 2;
        c.sync.idle_keepalive = 1;
    })
    .await;
    let mut raw = Raw::login(server.addr).await;
    raw.cmd("SELECT INBOX").await;
    raw.send(b"I IDLE\r\n").await;
    assert!(raw.line().await.starts_with("+ "));
    let mut lines = Vec::new();
    while let Some(l) = raw.maybe_line(Duration::from_secs(4)).await {
        lines.push(l);
    }
    assert!(lines.iter().any(|l| l == "* OK Still here"), "{lines:?}");
    assert!(lines.iter().any(|l| l.starts_with("* BYE")), "{lines:?}");
}

#[test]
fn config_files_cannot_go_below_the_rfc_floor() {
    let err = postfach::config::Config::parse(
        "[limits]\nidle_timeout_authenticated = 60\n",
        std::path::Path::new("postfach.toml"),
    )
    .unwrap_err();
    assert!(format!("{err:#}").contains("1800"), "{err:#}");
}
