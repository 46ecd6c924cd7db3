//! A minimal SMTP client (RFC 5321) for the mail postfach sends itself:
//! Sieve `redirect` and `vacation` replies go to `[submission] relay`
//! (the local MTA) with EHLO, MAIL, RCPT, DATA, QUIT. No TLS and no
//! authentication: the relay is expected on loopback or a trusted network.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// How long each step may take (RFC 5321 §4.5.3.2 suggests minutes; a local
/// relay answers at once, and delivery waits for this).
const STEP_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a message could not be handed to the relay.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("no relay configured ([submission] relay = \"none\")")]
    NoRelay,
    #[error("relay i/o error: {0}")]
    Io(#[from] std::io::Error),
    #[error("relay timed out")]
    Timeout,
    #[error("relay refused {step}: {reply}")]
    Refused { step: &'static str, reply: String },
}

/// Sends `message` (CRLF line endings) from `from` (empty: `<>`) to `to`.
pub async fn send(
    relay: Option<SocketAddr>,
    helo: &str,
    from: &str,
    to: &[String],
    message: &[u8],
) -> Result<(), RelayError> {
    let addr = relay.ok_or(RelayError::NoRelay)?;
    let tcp = step(TcpStream::connect(addr)).await??;
    let mut io = BufReader::new(tcp);
    expect(&mut io, "greeting", 220).await?;
    command(&mut io, &format!("EHLO {helo}"), "EHLO", 250).await?;
    command(&mut io, &format!("MAIL FROM:<{}>", clean(from)), "MAIL", 250).await?;
    for t in to {
        command(&mut io, &format!("RCPT TO:<{}>", clean(t)), "RCPT", 250).await?;
    }
    command(&mut io, "DATA", "DATA", 354).await?;
    let mut data = dot_stuff(message);
    if !data.ends_with(b"\r\n") {
        data.extend_from_slice(b"\r\n");
    }
    data.extend_from_slice(b".\r\n");
    step(io.get_mut().write_all(&data)).await??;
    expect(&mut io, "message", 250).await?;
    let _ = command(&mut io, "QUIT", "QUIT", 221).await;
    Ok(())
}

async fn step<F: std::future::Future>(f: F) -> Result<F::Output, RelayError> {
    tokio::time::timeout(STEP_TIMEOUT, f).await.map_err(|_| RelayError::Timeout)
}

async fn command(io: &mut BufReader<TcpStream>, line: &str, name: &'static str, want: u16) -> Result<(), RelayError> {
    step(io.get_mut().write_all(format!("{line}\r\n").as_bytes())).await??;
    expect(io, name, want).await
}

/// Reads one (possibly multi-line) reply and checks its code's first digit
/// against `want`'s.
async fn expect(io: &mut BufReader<TcpStream>, name: &'static str, want: u16) -> Result<(), RelayError> {
    let mut all = String::new();
    loop {
        let mut line = String::new();
        let n = step(io.read_line(&mut line)).await??;
        if n == 0 {
            return Err(RelayError::Refused { step: name, reply: format!("connection closed after {all:?}") });
        }
        if all.len() < 4096 {
            all.push_str(line.trim_end());
            all.push(' ');
        }
        if line.as_bytes().get(3) != Some(&b'-') {
            let code: u16 = line.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0);
            if code / 100 == want / 100 {
                return Ok(());
            }
            return Err(RelayError::Refused { step: name, reply: all.trim_end().to_string() });
        }
    }
}

fn clean(s: &str) -> String {
    s.chars().filter(|c| !c.is_control() && *c != '<' && *c != '>').collect()
}

/// RFC 5321 §4.5.2 transparency.
pub fn dot_stuff(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 16);
    let mut at_line_start = true;
    for &b in message {
        if at_line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        at_line_start = b == b'\n';
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn stuffing() {
        assert_eq!(super::dot_stuff(b".a\r\nb\r\n..\r\n"), b"..a\r\nb\r\n...\r\n");
        assert_eq!(super::clean("<a@b>\r\n"), "a@b");
    }
}
