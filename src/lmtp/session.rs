//! One LMTP connection: RFC 2033 on the RFC 5321 command set.
//!
//! Command lines are parsed by `smtp-proto` (`Request::parse`). The message
//! after DATA is read here, line by line, because `smtp-proto`'s
//! `DataReceiver` only recognizes `CRLF.CRLF`: we also accept bare-LF lines
//! (and a bare-LF `.` terminator), store every line with CRLF, and remove one
//! leading dot (RFC 5321 §4.5.2).
//!
//! Pipelining (RFC 2920): replies are buffered and written when the input
//! buffer is empty, i.e. before the session would wait for the client.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use smtp_proto::{Error as ParseError, Request};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader, ReadHalf, WriteHalf};

use crate::delivery::{self, Target};
use crate::imap::server::Shared;

/// Inactivity before the server gives up: RFC 5321 §4.5.3.2.7 asks for at
/// least 5 minutes while waiting for a command.
const TIMEOUT: Duration = Duration::from_secs(300);

/// Serves one connection until QUIT, EOF, a timeout or an I/O error.
pub async fn run<S>(shared: Arc<Shared>, stream: S, peer: String)
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (r, w) = tokio::io::split(stream);
    let mut s = Session {
        shared,
        hostname: super::hostname(),
        reader: BufReader::with_capacity(64 * 1024, r),
        writer: w,
        out: Vec::new(),
        open: std::collections::HashMap::new(),
        greeted: false,
        txn: Txn::default(),
    };
    match s.serve().await {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
            s.reply("421 4.4.2 idle timeout, closing connection");
            let _ = s.flush().await;
        }
        Err(e) => tracing::debug!(%peer, error = %e, "LMTP connection ended"),
    }
}

struct Session<S> {
    shared: Arc<Shared>,
    hostname: String,
    reader: BufReader<ReadHalf<S>>,
    writer: WriteHalf<S>,
    /// Replies not yet written.
    out: Vec<u8>,
    /// Accounts of this connection's recipients, kept open while it lasts
    /// (an MTA reuses its LMTP connections), so a delivery does not reopen
    /// the account database each time.
    open: std::collections::HashMap<store::AccountId, Arc<store::Account>>,
    greeted: bool,
    txn: Txn,
}

/// The mail transaction: MAIL FROM, then the accepted recipients.
#[derive(Default)]
struct Txn {
    from: Option<String>,
    rcpts: Vec<Target>,
    /// The `SIZE=` of MAIL FROM (0 when not given), for the quota check at RCPT.
    size: u64,
}

enum Line {
    Ok,
    TooLong,
    Eof,
}

enum Flow {
    Continue,
    Quit,
}

/// A command with its arguments copied out of the line.
enum Cmd {
    Lhlo,
    Helo,
    Mail { from: String, size: usize, binary: bool },
    Rcpt { to: String },
    Data,
    Rset,
    Noop,
    Quit,
    Vrfy,
    Help,
    NotImplemented(&'static str),
}

fn parse(line: &[u8]) -> Result<Cmd, ParseError> {
    let req = Request::parse(&mut line.iter())?;
    Ok(match req {
        Request::Lhlo { .. } => Cmd::Lhlo,
        Request::Ehlo { .. } | Request::Helo { .. } => Cmd::Helo,
        Request::Mail { from } => Cmd::Mail {
            from: from.address.into_owned(),
            size: from.size,
            binary: from.flags & smtp_proto::MAIL_BODY_BINARYMIME != 0,
        },
        Request::Rcpt { to } => Cmd::Rcpt { to: to.address.into_owned() },
        Request::Data => Cmd::Data,
        Request::Rset => Cmd::Rset,
        Request::Noop { .. } => Cmd::Noop,
        Request::Quit => Cmd::Quit,
        Request::Vrfy { .. } => Cmd::Vrfy,
        Request::Help { .. } => Cmd::Help,
        other => Cmd::NotImplemented(other.name()),
    })
}

/// The reply to a line `smtp-proto` refused (RFC 5321 §4.2.3, RFC 3463 codes).
fn parse_error_reply(e: &ParseError) -> String {
    match e {
        ParseError::UnknownCommand => "500 5.5.2 unknown command".into(),
        ParseError::InvalidSenderAddress => "501 5.1.7 bad sender address syntax".into(),
        ParseError::InvalidRecipientAddress => "501 5.1.3 bad recipient address syntax".into(),
        ParseError::SyntaxError { syntax } => format!("501 5.5.4 syntax: {syntax}"),
        ParseError::InvalidParameter { param } => format!("501 5.5.4 invalid parameter {param}"),
        ParseError::UnsupportedParameter { param } => {
            format!("555 5.5.4 unsupported parameter {}", param.chars().filter(|c| !c.is_control()).collect::<String>())
        }
        ParseError::ResponseTooLong => "500 5.5.2 line too long".into(),
        _ => "500 5.5.2 syntax error".into(),
    }
}

impl<S: AsyncRead + AsyncWrite> Session<S> {
    fn reply(&mut self, line: &str) {
        self.out.extend_from_slice(line.as_bytes());
        self.out.extend_from_slice(b"\r\n");
    }

    async fn flush(&mut self) -> std::io::Result<()> {
        if !self.out.is_empty() {
            let out = std::mem::take(&mut self.out);
            tokio::time::timeout(TIMEOUT, self.writer.write_all(&out)).await.map_err(|_| timed_out())??;
            self.writer.flush().await?;
        }
        Ok(())
    }

    /// Reads one line (with its LF) into `buf`, keeping at most `max` bytes;
    /// a longer line is consumed and reported as `TooLong`. Buffered replies
    /// go out before the session waits for input (RFC 2920 pipelining).
    async fn read_line(&mut self, buf: &mut Vec<u8>, max: usize) -> std::io::Result<Line> {
        buf.clear();
        let mut too_long = false;
        loop {
            if self.reader.buffer().is_empty() {
                self.flush().await?;
            }
            let avail = tokio::time::timeout(TIMEOUT, self.reader.fill_buf()).await.map_err(|_| timed_out())??;
            if avail.is_empty() {
                return Ok(Line::Eof);
            }
            let (n, done) = match avail.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (avail.len(), false),
            };
            if !too_long {
                if buf.len() + n > max {
                    too_long = true;
                    buf.clear();
                } else {
                    buf.extend_from_slice(&avail[..n]);
                }
            }
            self.reader.consume(n);
            if done {
                return Ok(if too_long { Line::TooLong } else { Line::Ok });
            }
        }
    }

    async fn serve(&mut self) -> std::io::Result<()> {
        // RFC 2033 §4 / RFC 5321 §4.2: the greeting.
        self.reply(&format!("220 {} LMTP postfach ready", self.hostname));
        let max = self.shared.config.delivery.max_line_length;
        let mut line = Vec::new();
        loop {
            match self.read_line(&mut line, max).await? {
                Line::Eof => return Ok(()),
                Line::TooLong => {
                    self.reply("500 5.5.2 line too long");
                    continue;
                }
                Line::Ok => {}
            }
            // smtp-proto is not expected to panic, but no panic may be
            // reachable from the network (DESIGN.md §5).
            let cmd = match std::panic::catch_unwind(AssertUnwindSafe(|| parse(&line))) {
                Ok(Ok(cmd)) => cmd,
                Ok(Err(e)) => {
                    self.reply(&parse_error_reply(&e));
                    continue;
                }
                Err(_) => {
                    self.reply("500 5.5.2 syntax error");
                    continue;
                }
            };
            if let Flow::Quit = self.command(cmd).await? {
                return self.flush().await;
            }
        }
    }

    async fn command(&mut self, cmd: Cmd) -> std::io::Result<Flow> {
        match cmd {
            Cmd::Lhlo => self.lhlo(),
            Cmd::Helo => self.reply("500 5.5.1 this is LMTP: use LHLO (RFC 2033 §4.1)"),
            Cmd::Mail { from, size, binary } => self.mail(from, size, binary),
            Cmd::Rcpt { to } => self.rcpt(to).await,
            Cmd::Data => self.data().await?,
            Cmd::Rset => {
                self.txn = Txn::default();
                self.reply("250 2.0.0 OK");
            }
            Cmd::Noop => self.reply("250 2.0.0 OK"),
            Cmd::Quit => {
                self.reply(&format!("221 2.0.0 {} closing connection", self.hostname));
                return Ok(Flow::Quit);
            }
            // RFC 5321 §3.5.3: 252 when the server will not verify.
            Cmd::Vrfy => self.reply("252 2.5.0 cannot VRFY user, but will accept message and attempt delivery"),
            Cmd::Help => self.reply("214 2.0.0 commands: LHLO MAIL RCPT DATA RSET NOOP QUIT VRFY"),
            Cmd::NotImplemented(name) => self.reply(&format!("502 5.5.1 {name} not implemented")),
        }
        Ok(Flow::Continue)
    }

    /// RFC 2033 §4.1 LHLO (EHLO's extension list, RFC 5321 §4.1.1.1).
    fn lhlo(&mut self) {
        self.greeted = true;
        self.txn = Txn::default();
        let size = self.shared.config.delivery.max_message_size;
        self.reply(&format!("250-{}", self.hostname));
        self.reply("250-PIPELINING");
        self.reply("250-ENHANCEDSTATUSCODES");
        self.reply("250-8BITMIME");
        self.reply("250-SMTPUTF8");
        self.reply(&format!("250 SIZE {size}"));
    }

    /// RFC 5321 §4.1.1.2 MAIL, with SIZE (RFC 1870), BODY (RFC 6152) and
    /// SMTPUTF8 (RFC 6531).
    fn mail(&mut self, from: String, size: usize, binary: bool) {
        if !self.greeted {
            return self.reply("503 5.5.1 send LHLO first");
        }
        if self.txn.from.is_some() {
            return self.reply("503 5.5.1 sender already given");
        }
        if binary {
            return self.reply("555 5.5.4 BODY=BINARYMIME is not supported");
        }
        if size as u64 > self.shared.config.delivery.max_message_size {
            return self.reply("552 5.3.4 message size exceeds fixed maximum message size");
        }
        self.txn.from = Some(from);
        self.txn.size = size as u64;
        self.reply("250 2.1.0 sender OK");
    }

    /// RFC 5321 §4.1.1.3 RCPT. The recipient is resolved now, so an unknown
    /// one is refused here (550 5.1.1) and never gets a reply after DATA.
    async fn rcpt(&mut self, to: String) {
        if self.txn.from.is_none() {
            return self.reply("503 5.5.1 send MAIL first");
        }
        if self.txn.rcpts.len() >= self.shared.config.delivery.max_recipients {
            return self.reply("452 4.5.3 too many recipients");
        }
        let store = self.shared.store.clone();
        let separator = self.shared.config.delivery.recipient_delimiter.clone();
        let address = to.clone();
        let found = tokio::task::spawn_blocking(move || {
            let r = store.resolve_recipient(&address, &separator)?;
            r.map(|r| store.account(r.account).map(|acc| (r, acc))).transpose()
        })
        .await;
        match found {
            Ok(Ok(Some((r, acc)))) => {
                if self.txn.size > 0 && self.over_quota_at_rcpt(&acc).await {
                    return self.reply(&self.over_quota_reply(&to));
                }
                if self.open.len() < 64 {
                    self.open.insert(r.account, acc);
                }
                self.txn.rcpts.push(Target { address: to, account: r.account, mailbox: "INBOX".into() });
                self.reply("250 2.1.5 recipient OK");
            }
            Ok(Ok(None)) => self.reply(&format!("550 5.1.1 <{}>: no such user", printable(&to))),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "recipient lookup failed");
                self.reply("451 4.3.0 temporary failure looking up the recipient");
            }
            Err(_) => self.reply("451 4.3.0 temporary failure looking up the recipient"),
        }
    }

    /// RFC 2033 §4.2 DATA: after the message, one reply per accepted
    /// recipient, in RCPT order. A recipient's 250 is sent only after its
    /// copy committed; a store failure gives 451 for that recipient.
    /// RFC 3463 X.2.2 "mailbox full": `552 5.2.2`, or `452 4.2.2` when the
    /// configuration makes it temporary (the MTA keeps the message and retries).
    fn over_quota_reply(&self, to: &str) -> String {
        if self.shared.config.quota.over_quota_temporary {
            format!("452 4.2.2 <{}> mailbox full, try again later", printable(to))
        } else {
            format!("552 5.2.2 <{}> mailbox full", printable(to))
        }
    }

    /// With `SIZE=` known, a recipient whose account cannot take that many
    /// more bytes (or one more message) is refused at RCPT already. The
    /// binding check is the one inside the store's transaction after DATA.
    async fn over_quota_at_rcpt(&self, account: &store::Account) -> bool {
        let store = self.shared.store.clone();
        let id = account.id();
        let limits = match tokio::task::spawn_blocking(move || store.quota_limits(id)).await {
            Ok(Ok(l)) => l,
            _ => return false,
        };
        if limits.is_unlimited() {
            return false;
        }
        match account.usage().await {
            Ok(usage) => limits.refuses(&usage, self.txn.size, 1).is_some(),
            Err(_) => false,
        }
    }

    async fn data(&mut self) -> std::io::Result<()> {
        if self.txn.from.is_none() {
            self.reply("503 5.5.1 send MAIL first");
            return Ok(());
        }
        if self.txn.rcpts.is_empty() {
            self.reply("503 5.5.1 no valid recipients");
            return Ok(());
        }
        self.reply("354 start mail input; end with <CRLF>.<CRLF>");
        self.flush().await?;
        let txn = std::mem::take(&mut self.txn);
        let from = txn.from.unwrap_or_default();
        let message = self.read_data().await?;
        let per_rcpt: Vec<String> = match message {
            None => {
                txn.rcpts.iter().map(|_| "552 5.3.4 message size exceeds fixed maximum message size".into()).collect()
            }
            Some(m) if m.contains(&0) => {
                // IMAP cannot send NUL in a message body (RFC 9051 §4.3).
                txn.rcpts.iter().map(|_| "554 5.6.0 message contains NUL characters".into()).collect()
            }
            Some(m) => {
                let results =
                    delivery::deliver_filtered(&self.shared.store, &self.shared.config, &from, m, &txn.rcpts).await;
                txn.rcpts
                    .iter()
                    .zip(results)
                    .map(|(t, r)| match r {
                        Err(delivery::DeliveryError::OverQuota(_)) => self.over_quota_reply(&t.address),
                        // Sieve reject/ereject (RFC 5429 §2.1): refused for this recipient only.
                        Ok(delivery::Outcome { rejected: Some(reason), .. }) => {
                            format!("550 5.7.1 <{}> {}", printable(&t.address), printable(&reason))
                        }
                        Ok(o) => match o.stored.first() {
                            Some(s) => format!("250 2.0.0 <{}> delivered (uid {})", printable(&t.address), s.uid),
                            None => format!("250 2.0.0 <{}> accepted; no copy kept by filter", printable(&t.address)),
                        },
                        Err(e) => {
                            tracing::warn!(rcpt = %t.address, error = %e, "delivery failed");
                            format!("451 4.3.0 <{}> temporary failure storing the message", printable(&t.address))
                        }
                    })
                    .collect()
            }
        };
        for r in per_rcpt {
            self.reply(&r);
        }
        Ok(())
    }

    /// Reads the message up to the `.` line: dot-unstuffed, CRLF line
    /// endings. `None` if it exceeded the size limit (it is read to its end
    /// all the same, so the session stays in step).
    async fn read_data(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        let max = self.shared.config.delivery.max_message_size.min(usize::MAX as u64 / 2) as usize;
        let mut msg = Vec::new();
        let mut line = Vec::new();
        let mut over = false;
        loop {
            // When over the limit, lines are only read to find the end.
            let budget = if over { 16 } else { max - msg.len() + 3 };
            match self.read_line(&mut line, budget).await? {
                Line::Eof => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                Line::TooLong => {
                    over = true;
                    continue;
                }
                Line::Ok => {}
            }
            let content = line.strip_suffix(b"\n").unwrap_or(&line);
            let content = content.strip_suffix(b"\r").unwrap_or(content);
            if content == b"." {
                break;
            }
            if over {
                continue;
            }
            let content = content.strip_prefix(b".").unwrap_or(content);
            if msg.len() + content.len() + 2 > max {
                over = true;
                msg = Vec::new();
                continue;
            }
            msg.extend_from_slice(content);
            msg.extend_from_slice(b"\r\n");
        }
        Ok(if over { None } else { Some(msg) })
    }
}

fn timed_out() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::TimedOut, "LMTP timeout")
}

/// An address as it may appear in a reply line.
fn printable(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(256).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands() {
        assert!(matches!(parse(b"LHLO x\r\n"), Ok(Cmd::Lhlo)));
        assert!(matches!(parse(b"EHLO x\r\n"), Ok(Cmd::Helo)));
        let Ok(Cmd::Mail { from, size, binary }) = parse(b"MAIL FROM:<a@b> SIZE=12 BODY=8BITMIME SMTPUTF8\r\n") else {
            panic!()
        };
        assert_eq!((from.as_str(), size, binary), ("a@b", 12, false));
        assert!(matches!(parse(b"MAIL FROM:<> BODY=BINARYMIME\r\n"), Ok(Cmd::Mail { binary: true, .. })));
        assert!(matches!(parse(b"RCPT TO:<x+y@z>\r\n"), Ok(Cmd::Rcpt { to }) if to == "x+y@z"));
        assert!(matches!(parse(b"data\n"), Ok(Cmd::Data)));
        assert!(matches!(parse(b"STARTTLS\r\n"), Ok(Cmd::NotImplemented(_))));
        assert!(parse(b"BOGUS\r\n").is_err());
        assert!(parse(b"MAIL FROM:<> SIZE=x\r\n").is_err());
        assert!(parse(b"RCPT TO:\r\n").is_err());
    }

    /// Arbitrary bytes never panic the parser.
    #[test]
    fn garbage_does_not_panic() {
        let mut seed = 0x1234_5678_u64;
        for _ in 0..20_000 {
            let len = (seed % 80) as usize;
            let mut line = Vec::with_capacity(len + 1);
            for _ in 0..len {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let pick = b"MAIL FROM:<>RCPT TO@ =SIZEBODY8BITMIME\r\x00\xff\"\\";
                line.push(pick[(seed % pick.len() as u64) as usize]);
            }
            line.push(b'\n');
            let _ = parse(&line);
        }
    }
}
