//! COMPRESS=DEFLATE (RFC 4978): raw DEFLATE (RFC 1951) in both directions,
//! below TLS and above the protocol framing. Shared by IMAP (`COMPRESS
//! DEFLATE`) and ManageSieve (`COMPRESS "DEFLATE"`, see `managesieve`).
//!
//! Every write is compressed with a sync flush, so each burst of responses
//! (both servers write once per burst: IMAP's `Conn::flush`, ManageSieve's
//! `Session::flush`) reaches the client whole: a client never waits for bytes stuck in the compressor —
//! the bug that made mox turn COMPRESS off.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A stream that inflates what it reads and deflates what it writes.
pub struct Deflate<S> {
    inner: S,
    inflate: Decompress,
    deflate: Compress,
    /// Compressed bytes read from `inner`, not yet inflated (from `rpos`).
    rbuf: Vec<u8>,
    rpos: usize,
    /// Compressed bytes not yet written to `inner` (from `wpos`).
    wbuf: Vec<u8>,
    wpos: usize,
}

impl<S> Deflate<S> {
    /// Wraps `inner`; `already_read` holds compressed bytes the caller had
    /// buffered before compression started.
    pub fn new(inner: S, already_read: Vec<u8>) -> Deflate<S> {
        Deflate {
            inner,
            inflate: Decompress::new(false),
            deflate: Compress::new(Compression::default(), false),
            rbuf: already_read,
            rpos: 0,
            wbuf: Vec::new(),
            wpos: 0,
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Deflate<S> {
    /// Writes out pending compressed bytes.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.wpos < self.wbuf.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.wbuf[self.wpos..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.wpos += n;
        }
        self.wbuf.clear();
        self.wpos = 0;
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for Deflate<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        loop {
            // Even with no new input the inflater may hold output that did
            // not fit last time, so it is always asked first.
            {
                let (in0, out0) = (this.inflate.total_in(), this.inflate.total_out());
                let status = this
                    .inflate
                    .decompress(&this.rbuf[this.rpos..], buf.initialize_unfilled(), FlushDecompress::Sync)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                let consumed = (this.inflate.total_in() - in0) as usize;
                let produced = (this.inflate.total_out() - out0) as usize;
                this.rpos += consumed;
                buf.advance(produced);
                if produced > 0 {
                    return Poll::Ready(Ok(()));
                }
                if status == Status::StreamEnd {
                    return Poll::Ready(Ok(()));
                }
                if consumed > 0 && this.rpos < this.rbuf.len() {
                    continue;
                }
            }
            // Need more compressed input.
            this.rbuf.drain(..this.rpos);
            this.rpos = 0;
            let mut tmp = [0u8; 16 * 1024];
            let mut rb = ReadBuf::new(&mut tmp);
            ready!(Pin::new(&mut this.inner).poll_read(cx, &mut rb))?;
            if rb.filled().is_empty() {
                return Poll::Ready(Ok(())); // EOF
            }
            this.rbuf.extend_from_slice(rb.filled());
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Deflate<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        // Compress all of `buf` with a sync flush: the client can inflate
        // everything written so far without waiting for more.
        let mut input = buf;
        loop {
            this.wbuf.reserve(input.len() / 2 + 64);
            let in0 = this.deflate.total_in();
            this.deflate
                .compress_vec(input, &mut this.wbuf, FlushCompress::Sync)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            input = &input[(this.deflate.total_in() - in0) as usize..];
            // Done when all input is taken and the flush left spare room.
            if input.is_empty() && this.wbuf.len() < this.wbuf.capacity() {
                break;
            }
        }
        // Start sending; whatever is left goes out on the next write or flush.
        if let Poll::Ready(Err(e)) = this.poll_drain(cx) {
            return Poll::Ready(Err(e));
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn round_trip_through_a_duplex_pipe() {
        let (a, b) = tokio::io::duplex(64);
        let mut a = Deflate::new(a, Vec::new());
        let mut b = Deflate::new(b, Vec::new());
        let text: Vec<u8> =
            (0..20_000u32).flat_map(|i| format!("* {i} FETCH (FLAGS (\\Seen))\r\n").into_bytes()).collect();
        let t2 = text.clone();
        let writer = tokio::spawn(async move {
            a.write_all(&t2).await.unwrap();
            a.flush().await.unwrap();
            a
        });
        // Small reads leave output inside the inflater between calls.
        let mut got = Vec::new();
        let mut small = [0u8; 7];
        let read_all = async {
            while got.len() < text.len() {
                let n = b.read(&mut small).await.unwrap();
                got.extend_from_slice(&small[..n]);
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(10), read_all).await.expect("no stall");
        assert_eq!(got, text);
        drop(writer.await.unwrap());
    }
}
