//! Framing: turns the byte stream into command [`Fragment`]s (lines and
//! literals) under explicit limits, and carries the stream through the
//! STARTTLS upgrade.
//!
//! Reading is cancel-safe (used inside `select!` during IDLE): bytes move from
//! the `BufReader` into the caller's buffer synchronously, so a cancelled read
//! loses nothing.

use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};

use imap_proto::{parser, Fragment, Literal, LiteralHeader, Tag};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;

use crate::config::Limits;

/// The client's socket, plain or TLS.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    /// COMPRESS=DEFLATE over either of the above (RFC 4978).
    Deflate(Box<crate::compress::Deflate<Stream>>),
    /// Transient, while STARTTLS swaps one for the other.
    Upgrading,
}

impl AsyncRead for Stream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Deflate(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Upgrading => Poll::Ready(Err(io::ErrorKind::NotConnected.into())),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Deflate(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Upgrading => Poll::Ready(Err(io::ErrorKind::NotConnected.into())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s).poll_flush(cx),
            Stream::Deflate(s) => Pin::new(s).poll_flush(cx),
            Stream::Upgrading => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Deflate(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Upgrading => Poll::Ready(Ok(())),
        }
    }
}

/// One read line.
#[derive(Debug, PartialEq, Eq)]
pub enum LineRead {
    /// The line without its CRLF (a bare LF is accepted too).
    Line,
    /// The line exceeded the limit; its bytes were discarded up to the LF. The
    /// buffer holds the line's last bytes (enough to see a literal marker).
    TooLong,
    /// The client closed the connection.
    Eof,
}

/// What [`Conn::read_command`] produced.
pub enum Framed {
    Command(Vec<Fragment>),
    /// A framing error the client can recover from: answer `BAD` and go on.
    Bad {
        tag: Option<Tag>,
        text: String,
        code: Option<imap_proto::Code>,
    },
    /// A message literal over the limit in APPEND or REPLACE: `NO [TOOBIG]`
    /// (RFC 7889 §4, RFC 4469 §4.2); the client did not send it.
    TooBig {
        tag: Option<Tag>,
        text: String,
    },
    /// The connection cannot continue (a non-synchronizing literal over the
    /// limit: its bytes are already on the way). Answer `BYE` and close.
    Fatal(String),
    Eof,
}

/// Responses held back for pipelined commands ([`Conn::command_waiting`])
/// are written once they reach this many bytes.
const OUT_HELD_BACK: usize = 64 * 1024;

/// How a literal reached us; spooled literals live in a temp file that is
/// removed when this is dropped.
pub struct Spool(pub Vec<tempfile::TempPath>);

/// A connection's reader/writer. Handlers write responses into `out` and call
/// [`Conn::flush`]; nothing is written while a store lock is held, because the
/// store returns owned data (DESIGN.md §2 invariant 5).
pub struct Conn {
    pub io: BufReader<Stream>,
    /// Responses not yet written.
    pub out: Vec<u8>,
    pub limits: Limits,
    /// Where big literals are spooled.
    pub spool_dir: PathBuf,
    /// Temp files of the command being handled.
    pub spool: Spool,
}

impl Conn {
    pub fn new(stream: Stream, limits: Limits, spool_dir: PathBuf) -> Conn {
        Conn { io: BufReader::new(stream), out: Vec::with_capacity(4096), limits, spool_dir, spool: Spool(Vec::new()) }
    }

    pub async fn flush(&mut self) -> io::Result<()> {
        if !self.out.is_empty() {
            self.io.get_mut().write_all(&self.out).await?;
            self.out.clear();
        }
        self.io.get_mut().flush().await
    }

    /// Whether the next command's first line is already read from the
    /// socket: the responses so far may then wait and go out with the next
    /// command's in one write (pipelined commands cost one `send` per burst,
    /// not one per command). Anything that waits for the client must flush
    /// first; [`Conn::read_command`] does before a continuation request.
    pub fn command_waiting(&self) -> bool {
        self.out.len() < OUT_HELD_BACK && self.io.buffer().contains(&b'\n')
    }

    /// Reads one line into `line` (appending), at most `max` bytes. Cancel-safe.
    pub async fn read_line(&mut self, line: &mut Vec<u8>, max: usize) -> io::Result<LineRead> {
        let mut too_long = false;
        loop {
            let buf = self.io.fill_buf().await?;
            if buf.is_empty() {
                return Ok(LineRead::Eof);
            }
            match buf.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    line.extend_from_slice(&buf[..i]);
                    self.io.consume(i + 1);
                    if line.last() == Some(&b'\r') {
                        line.pop();
                    }
                    if too_long || line.len() > max {
                        keep_tail(line);
                        return Ok(LineRead::TooLong);
                    }
                    return Ok(LineRead::Line);
                }
                None => {
                    let n = buf.len();
                    line.extend_from_slice(buf);
                    self.io.consume(n);
                    if line.len() > max + 1 {
                        too_long = true;
                        keep_tail(line);
                    }
                }
            }
        }
    }

    /// Reads one complete command: its lines and literals. Sends the
    /// continuation request for synchronizing literals (RFC 9051 §7.5).
    pub async fn read_command(&mut self) -> io::Result<Framed> {
        let mut frags = Vec::new();
        let mut tag: Option<Tag> = None;
        let mut total: u64 = 0;
        loop {
            let mut line = Vec::new();
            match self.read_line(&mut line, self.limits.max_line_length).await? {
                LineRead::Eof => return Ok(Framed::Eof),
                LineRead::TooLong => {
                    // The tail may announce a literal; a non-synchronizing one
                    // is already coming and must be skipped.
                    if let Some(h) = parser::literal_header(&line) {
                        if !h.sync {
                            if h.len > self.limits.max_literal_size {
                                return Ok(Framed::Fatal("command line too long".into()));
                            }
                            self.skip(h.len).await?;
                            self.skip_rest_of_command().await?;
                        }
                    }
                    return Ok(Framed::Bad {
                        tag,
                        text: format!("command line too long (limit {} bytes)", self.limits.max_line_length),
                        code: Some(imap_proto::Code::TooBig),
                    });
                }
                LineRead::Line => {}
            }
            if frags.is_empty() {
                tag = parser::peek_tag(&line);
                if line.is_empty() {
                    // Empty lines between commands are harmless; ignore them.
                    continue;
                }
            }
            let header = parser::literal_header(&line);
            frags.push(Fragment::Line(line));
            let Some(h) = header else {
                return Ok(Framed::Command(frags));
            };
            total += h.len;
            if h.len > self.limits.max_literal_size || total > self.limits.max_literal_size.saturating_mul(4) {
                let text = format!("literal too large (limit {} bytes)", self.limits.max_literal_size);
                if h.sync {
                    // The client waits for "+"; it will not send the bytes.
                    if frags.first().is_some_and(|f| matches!(f, Fragment::Line(l) if appends(l))) {
                        return Ok(Framed::TooBig { tag, text });
                    }
                    return Ok(Framed::Bad { tag, text, code: Some(imap_proto::Code::TooBig) });
                }
                return Ok(Framed::Fatal(text));
            }
            if frags.len() > 2 * 1000 {
                return Ok(Framed::Fatal("too many literals in one command".into()));
            }
            if h.sync {
                // After any responses still held back (see `command_waiting`).
                self.out.extend_from_slice(b"+ Ready for literal data\r\n");
                self.flush().await?;
            }
            match self.read_literal(h).await? {
                Some(lit) => frags.push(Fragment::Literal(lit)),
                None => return Ok(Framed::Eof),
            }
        }
    }

    async fn read_literal(&mut self, h: LiteralHeader) -> io::Result<Option<Literal>> {
        if h.len <= self.limits.spool_threshold {
            let mut buf = vec![0u8; h.len as usize];
            return match self.io.read_exact(&mut buf).await {
                Ok(_) => Ok(Some(Literal::Memory(buf))),
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(None),
                Err(e) => Err(e),
            };
        }
        let tmp = tempfile::Builder::new().prefix("literal-").tempfile_in(&self.spool_dir)?;
        let (file, path) = tmp.into_parts();
        let mut file = tokio::fs::File::from_std(file);
        let mut limited = (&mut self.io).take(h.len);
        let copied = tokio::io::copy(&mut limited, &mut file).await?;
        file.flush().await?;
        if copied != h.len {
            return Ok(None);
        }
        let lit = Literal::File { path: path.to_path_buf(), len: h.len };
        self.spool.0.push(path);
        Ok(Some(lit))
    }

    async fn skip(&mut self, len: u64) -> io::Result<()> {
        let mut limited = (&mut self.io).take(len);
        tokio::io::copy(&mut limited, &mut tokio::io::sink()).await?;
        Ok(())
    }

    /// After a rejected line whose literal was skipped: drop the remaining lines
    /// and non-synchronizing literals of that command.
    async fn skip_rest_of_command(&mut self) -> io::Result<()> {
        loop {
            let mut line = Vec::new();
            if self.read_line(&mut line, self.limits.max_line_length).await? == LineRead::Eof {
                return Ok(());
            }
            match parser::literal_header(&line) {
                Some(h) if !h.sync && h.len <= self.limits.max_literal_size => self.skip(h.len).await?,
                _ => return Ok(()),
            }
        }
    }
}

/// Whether a command's first line is APPEND, REPLACE or UID REPLACE.
fn appends(first_line: &[u8]) -> bool {
    let mut words = first_line.split(|&b| b == b' ').skip(1);
    let is = |w: Option<&[u8]>, name: &str| w.is_some_and(|w| w.eq_ignore_ascii_case(name.as_bytes()));
    let first = words.next();
    is(first, "APPEND") || is(first, "REPLACE") || (is(first, "UID") && is(words.next(), "REPLACE"))
}

/// Keeps only the last bytes of an overlong line (enough for `{N+}`).
fn keep_tail(line: &mut Vec<u8>) {
    const TAIL: usize = 32;
    if line.len() > TAIL {
        line.drain(..line.len() - TAIL);
    }
}
