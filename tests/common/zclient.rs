//! A client speaking raw DEFLATE (RFC 1951, as RFC 4978 COMPRESS uses it),
//! written directly on `flate2` so the server's compression layer is checked
//! against an independent implementation (IMAP and ManageSieve tests).

use std::time::Duration;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A client speaking raw DEFLATE over a TCP stream.
pub struct Zclient {
    pub tcp: TcpStream,
    tx: Compress,
    rx: Decompress,
    /// Inflated bytes not yet returned as lines.
    pub text: Vec<u8>,
}

impl Zclient {
    /// Compression starts now, in both directions.
    pub fn new(tcp: TcpStream) -> Zclient {
        Zclient { tcp, tx: Compress::new(Compression::default(), false), rx: Decompress::new(false), text: Vec::new() }
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        let mut out = Vec::with_capacity(bytes.len() + 64);
        let mut input = bytes;
        loop {
            out.reserve(1024);
            let before = self.tx.total_in();
            self.tx.compress_vec(input, &mut out, FlushCompress::Sync).unwrap();
            input = &input[(self.tx.total_in() - before) as usize..];
            if input.is_empty() && out.len() < out.capacity() {
                break;
            }
        }
        self.tcp.write_all(&out).await.unwrap();
    }

    /// Reads until `needle` appears in the inflated text, within `wait`;
    /// returns everything up to and including the line holding it.
    pub async fn until(&mut self, needle: &str, wait: Duration) -> Option<String> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let s = String::from_utf8_lossy(&self.text).into_owned();
            if let Some(i) = s.find(needle) {
                let end = s[i..].find("\r\n").map(|e| i + e + 2).unwrap_or(s.len());
                self.text.drain(..end);
                return Some(s[..end].to_string());
            }
            let mut buf = [0u8; 8192];
            let n = match tokio::time::timeout_at(deadline, self.tcp.read(&mut buf)).await {
                Ok(Ok(n)) if n > 0 => n,
                _ => return None,
            };
            let mut input = &buf[..n];
            while !input.is_empty() {
                let mut out = Vec::with_capacity(64 * 1024);
                let before = self.rx.total_in();
                self.rx.decompress_vec(input, &mut out, FlushDecompress::Sync).unwrap();
                input = &input[(self.rx.total_in() - before) as usize..];
                self.text.extend_from_slice(&out);
            }
        }
    }
}
