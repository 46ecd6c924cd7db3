//! A minimal IMAP client: tagged commands, untagged responses with literals,
//! LITERAL+ appends, IDLE. Just enough for the load generator; it works
//! against any IMAP4rev1/rev2 server.

use anyhow::{bail, Context, Result};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpSocket, TcpStream};

/// One logical response line: the text parts with each literal's `{n}`
/// marker kept, and the literal payloads separately (so that parsing the
/// text never looks inside a message body).
#[derive(Debug, Default, Clone)]
pub struct Line {
    pub text: String,
    pub lits: Vec<Vec<u8>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    No,
    Bad,
}

#[derive(Debug)]
pub struct Reply {
    pub status: Status,
    /// The tagged line after the status word.
    pub text: String,
    pub untagged: Vec<Line>,
}

impl Reply {
    pub fn ok(&self) -> bool {
        self.status == Status::Ok
    }
}

pub struct Client {
    rd: BufReader<OwnedReadHalf>,
    wr: OwnedWriteHalf,
    next_tag: u64,
    buf: Vec<u8>,
    pub greeting: String,
    pub caps: String,
    /// Upper bound on waiting for one response line.
    pub timeout: Duration,
}

/// `{123}` or `{123+}` at the end of a line → 123.
pub fn literal_len(line: &str) -> Option<usize> {
    let s = line.strip_suffix('}')?;
    let open = s.rfind('{')?;
    let n = &s[open + 1..];
    let n = n.strip_suffix('+').unwrap_or(n);
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok()
}

impl Client {
    pub async fn connect(host: &str, port: u16) -> Result<Client> {
        Client::connect_from(host, port, None).await
    }

    /// Connects from the local address `source` (any port), e.g. one of
    /// 127.0.0.2, 127.0.0.3, … so that more than one source address's
    /// ephemeral ports (about 28 000) reach one server port.
    pub async fn connect_from(host: &str, port: u16, source: Option<IpAddr>) -> Result<Client> {
        let connect = async {
            let Some(src) = source else { return TcpStream::connect((host, port)).await };
            let addr = tokio::net::lookup_host((host, port))
                .await?
                .find(|a| a.is_ipv4() == src.is_ipv4())
                .ok_or_else(|| std::io::Error::other("no address of the source's family"))?;
            let sock = if src.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
            sock.bind(SocketAddr::new(src, 0))?;
            sock.connect(addr).await
        };
        let s = tokio::time::timeout(Duration::from_secs(30), connect)
            .await
            .context("connect timeout")?
            .with_context(|| format!("connect {host}:{port}"))?;
        s.set_nodelay(true)?;
        let (r, w) = s.into_split();
        let mut c = Client {
            rd: BufReader::with_capacity(256 * 1024, r),
            wr: w,
            next_tag: 1,
            buf: Vec::new(),
            greeting: String::new(),
            caps: String::new(),
            timeout: Duration::from_secs(120),
        };
        let g = c.read_line().await?;
        if !g.text.starts_with("* OK") && !g.text.starts_with("* PREAUTH") {
            bail!("bad greeting: {}", g.text);
        }
        c.greeting = g.text;
        Ok(c)
    }

    /// Connect, LOGIN, and remember the capabilities.
    pub async fn login(host: &str, port: u16, user: &str, pass: &str) -> Result<Client> {
        Client::login_from(host, port, None, user, pass).await
    }

    /// [`Client::login`] from the local address `source`.
    pub async fn login_from(host: &str, port: u16, source: Option<IpAddr>, user: &str, pass: &str) -> Result<Client> {
        let mut c = Client::connect_from(host, port, source).await?;
        let r = c.cmd(&format!("LOGIN {} {}", quote(user), quote(pass))).await?;
        if !r.ok() {
            bail!("LOGIN {user}: {:?} {}", r.status, r.text);
        }
        c.set_caps(&r);
        if c.caps.is_empty() {
            let r = c.cmd("CAPABILITY").await?;
            c.set_caps(&r);
        }
        Ok(c)
    }

    pub fn set_caps(&mut self, r: &Reply) {
        if let Some(i) = r.text.find("[CAPABILITY ") {
            let rest = &r.text[i + 12..];
            self.caps = rest[..rest.find(']').unwrap_or(rest.len())].to_ascii_uppercase();
        }
        for l in &r.untagged {
            if let Some(c) = l.text.strip_prefix("* CAPABILITY ") {
                self.caps = c.to_ascii_uppercase();
            }
        }
    }

    pub fn has_cap(&self, cap: &str) -> bool {
        self.caps.split_ascii_whitespace().any(|c| c == cap)
    }

    async fn read_raw(&mut self) -> Result<()> {
        self.buf.clear();
        let n = tokio::time::timeout(self.timeout, self.rd.read_until(b'\n', &mut self.buf))
            .await
            .context("timeout waiting for server")??;
        if n == 0 {
            bail!("connection closed by server");
        }
        Ok(())
    }

    /// Reads one logical response line, literals included.
    pub async fn read_line(&mut self) -> Result<Line> {
        let mut line = Line::default();
        loop {
            self.read_raw().await?;
            let mut b = &self.buf[..];
            if b.ends_with(b"\r\n") {
                b = &b[..b.len() - 2];
            } else if b.ends_with(b"\n") {
                b = &b[..b.len() - 1];
            }
            let s = String::from_utf8_lossy(b);
            line.text.push_str(&s);
            match literal_len(&s) {
                Some(n) => {
                    let mut lit = vec![0u8; n];
                    tokio::time::timeout(self.timeout, self.rd.read_exact(&mut lit))
                        .await
                        .context("timeout reading literal")??;
                    line.lits.push(lit);
                }
                None => return Ok(line),
            }
        }
    }

    fn tag(&mut self) -> String {
        let t = format!("b{}", self.next_tag);
        self.next_tag += 1;
        t
    }

    pub async fn send_raw(&mut self, data: &[u8]) -> Result<()> {
        self.wr.write_all(data).await?;
        Ok(())
    }

    /// Sends a command (no literals) and collects the responses up to its tagged reply.
    pub async fn cmd(&mut self, cmd: &str) -> Result<Reply> {
        let tag = self.tag();
        self.wr.write_all(format!("{tag} {cmd}\r\n").as_bytes()).await?;
        self.finish(&tag, true).await
    }

    /// Like `cmd`, but only counts untagged responses (for huge responses).
    /// It scans the bytes as they arrive: no allocation and no timer per
    /// line, so that the client's own cost stays small next to the server's
    /// (a `FETCH 1:* (ENVELOPE)` of 100 000 messages is 100 000 responses).
    /// The whole command gets one deadline, [`Client::timeout`].
    pub async fn cmd_count(&mut self, cmd: &str) -> Result<(Reply, usize)> {
        let tag = self.tag();
        self.wr.write_all(format!("{tag} {cmd}\r\n").as_bytes()).await?;
        let deadline = tokio::time::Instant::now() + self.timeout;
        tokio::time::timeout_at(deadline, self.count_until(&tag)).await.context("timeout waiting for server")?
    }

    /// Sends `cmd` `times` times in one write and waits for every tagged
    /// reply, in order: what the server spends per command without a round
    /// trip per command (a warm SELECT is at the round-trip floor). Returns
    /// the last reply; a command that is not OK is an error.
    pub async fn pipelined(&mut self, cmd: &str, times: usize) -> Result<Reply> {
        let tags: Vec<String> = (0..times).map(|_| self.tag()).collect();
        let batch: String = tags.iter().map(|t| format!("{t} {cmd}\r\n")).collect();
        self.wr.write_all(batch.as_bytes()).await?;
        let deadline = tokio::time::Instant::now() + self.timeout;
        let mut last = None;
        for tag in &tags {
            let (r, _) = tokio::time::timeout_at(deadline, self.count_until(tag))
                .await
                .context("timeout waiting for server")??;
            if !r.ok() {
                bail!("{cmd}: {:?} {}", r.status, r.text);
            }
            last = Some(r);
        }
        last.context("no command sent")
    }

    async fn count_until(&mut self, tag: &str) -> Result<(Reply, usize)> {
        let mut n = 0;
        let mut search_hits = 0;
        // The current logical response without its literals' payloads.
        let mut line: Vec<u8> = Vec::with_capacity(256);
        // Literal bytes still to skip.
        let mut skip = 0usize;
        loop {
            let buf = self.rd.fill_buf().await?;
            if buf.is_empty() {
                bail!("connection closed by server");
            }
            let mut used = 0;
            while used < buf.len() {
                let rest = &buf[used..];
                if skip > 0 {
                    let k = skip.min(rest.len());
                    skip -= k;
                    used += k;
                    continue;
                }
                let Some(end) = memchr::memchr(b'\n', rest) else {
                    line.extend_from_slice(rest);
                    used = buf.len();
                    break;
                };
                line.extend_from_slice(&rest[..end]);
                used += end + 1;
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                let marker = line.last() == Some(&b'}');
                if let Some(len) = marker
                    .then(|| literal_len(&String::from_utf8_lossy(&line[line.len().saturating_sub(24)..])))
                    .flatten()
                {
                    skip = len;
                    continue;
                }
                if line.starts_with(tag.as_bytes()) && line.get(tag.len()) == Some(&b' ') {
                    let text = String::from_utf8_lossy(&line).into_owned();
                    let Some(mut r) = tagged(tag, &Line { text, lits: Vec::new() }) else {
                        bail!("unparsable tagged response: {}", String::from_utf8_lossy(&line));
                    };
                    self.rd.consume(used);
                    // keep SEARCH results countable
                    if search_hits > 0 {
                        r.text.push_str(&format!(" (search hits {search_hits})"));
                    }
                    return Ok((r, n));
                }
                if line.starts_with(b"* SEARCH") {
                    search_hits += line.split(|&b| b == b' ').filter(|w| !w.is_empty()).count().saturating_sub(2);
                }
                if line.starts_with(b"+") {
                    bail!("unexpected continuation: {}", String::from_utf8_lossy(&line));
                }
                n += 1;
                line.clear();
            }
            self.rd.consume(used);
        }
    }

    pub async fn finish(&mut self, tag: &str, keep: bool) -> Result<Reply> {
        let mut untagged = Vec::new();
        loop {
            let l = self.read_line().await?;
            if let Some(mut r) = tagged(tag, &l) {
                r.untagged = untagged;
                return Ok(r);
            }
            if l.text.starts_with('+') {
                bail!("unexpected continuation: {}", l.text);
            }
            if keep {
                untagged.push(l);
            }
        }
    }

    /// APPEND with a synchronizing literal, or a non-synchronizing one when the
    /// server has LITERAL+ (or LITERAL- and the message is small).
    pub async fn append(&mut self, mailbox: &str, flags: &str, msg: &[u8]) -> Result<Reply> {
        let tag = self.tag();
        let plus = self.has_cap("LITERAL+") || (self.has_cap("LITERAL-") && msg.len() <= 4096);
        let head =
            format!("{tag} APPEND {} ({flags}) {{{}{}}}\r\n", quote(mailbox), msg.len(), if plus { "+" } else { "" });
        if plus {
            let mut v = Vec::with_capacity(head.len() + msg.len() + 2);
            v.extend_from_slice(head.as_bytes());
            v.extend_from_slice(msg);
            v.extend_from_slice(b"\r\n");
            self.wr.write_all(&v).await?;
        } else {
            self.wr.write_all(head.as_bytes()).await?;
            let l = self.read_line().await?;
            if !l.text.starts_with('+') {
                if let Some(r) = tagged(&tag, &l) {
                    return Ok(r);
                }
                bail!("expected continuation, got {}", l.text);
            }
            self.wr.write_all(msg).await?;
            self.wr.write_all(b"\r\n").await?;
        }
        self.finish(&tag, true).await
    }

    /// Starts IDLE: returns the tag once the server sent its continuation.
    pub async fn idle_start(&mut self) -> Result<(String, Vec<Line>)> {
        let tag = self.tag();
        self.wr.write_all(format!("{tag} IDLE\r\n").as_bytes()).await?;
        let mut untagged = Vec::new();
        loop {
            let l = self.read_line().await?;
            if l.text.starts_with('+') {
                return Ok((tag, untagged));
            }
            if let Some(r) = tagged(&tag, &l) {
                bail!("IDLE refused: {:?} {}", r.status, r.text);
            }
            untagged.push(l);
        }
    }

    pub async fn idle_done(&mut self, tag: &str) -> Result<Reply> {
        self.wr.write_all(b"DONE\r\n").await?;
        self.finish(tag, true).await
    }

    pub async fn logout(mut self) -> Result<Reply> {
        self.cmd("LOGOUT").await
    }
}

fn tagged(tag: &str, l: &Line) -> Option<Reply> {
    let rest = l.text.strip_prefix(tag)?.strip_prefix(' ')?;
    let (word, text) = rest.split_once(' ').unwrap_or((rest, ""));
    let status = match word.to_ascii_uppercase().as_str() {
        "OK" => Status::Ok,
        "NO" => Status::No,
        _ => Status::Bad,
    };
    Some(Reply { status, text: text.to_string(), untagged: Vec::new() })
}

/// A quoted string (the characters used here never need a literal).
pub fn quote(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            o.push('\\');
        }
        o.push(c);
    }
    o.push('"');
    o
}

/// `* 12 EXISTS` → (12, "EXISTS"); `* 3 FETCH (…)` → (3, "FETCH (…)").
pub fn seq_resp(text: &str) -> Option<(u32, &str)> {
    let rest = text.strip_prefix("* ")?;
    let (n, rest) = rest.split_once(' ')?;
    let n: u32 = n.parse().ok()?;
    Some((n, rest))
}

/// The UID and FLAGS items of a FETCH response's text part.
pub fn fetch_uid_flags(rest: &str) -> (Option<u32>, Option<Vec<String>>) {
    let up = rest;
    let uid = find_item(up, "UID ").and_then(|s| {
        let d: String = s.chars().take_while(|c| c.is_ascii_digit()).collect();
        d.parse().ok()
    });
    let flags = find_item(up, "FLAGS (").map(|s| {
        let end = s.find(')').unwrap_or(s.len());
        s[..end].split_ascii_whitespace().map(|f| f.to_string()).collect()
    });
    (uid, flags)
}

/// Finds a FETCH item name preceded by `(` or a space; returns what follows it.
fn find_item<'a>(s: &'a str, item: &str) -> Option<&'a str> {
    let mut from = 0;
    while let Some(i) = s[from..].find(item) {
        let at = from + i;
        if at > 0 && matches!(s.as_bytes()[at - 1], b'(' | b' ') {
            return Some(&s[at + item.len()..]);
        }
        from = at + 1;
    }
    None
}

/// `[APPENDUID 123 456]` → 456.
pub fn appenduid(text: &str) -> Option<u32> {
    let i = text.find("[APPENDUID ")?;
    let rest = &text[i + 11..];
    let rest = &rest[..rest.find(']')?];
    rest.split_ascii_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fetch_items_and_literals() {
        assert_eq!(literal_len("* 1 FETCH (BODY[] {42}"), Some(42));
        assert_eq!(literal_len("a APPEND x {7+}"), Some(7));
        assert_eq!(literal_len("* OK {no}"), None);
        let (uid, flags) = fetch_uid_flags("FETCH (UID 17 FLAGS (\\Seen $Bench))");
        assert_eq!(uid, Some(17));
        assert_eq!(flags.unwrap(), vec!["\\Seen".to_string(), "$Bench".to_string()]);
        let (uid, flags) = fetch_uid_flags("FETCH (FLAGS () UID 9)");
        assert_eq!(uid, Some(9));
        assert!(flags.unwrap().is_empty());
        assert_eq!(seq_resp("* 12 EXISTS"), Some((12, "EXISTS")));
        assert_eq!(appenduid("[APPENDUID 38505 3955] APPEND completed"), Some(3955));
    }

    /// `cmd_count` counts logical responses: literals (holding newlines,
    /// a `)` or text that looks like a tag) are skipped whole, however the
    /// bytes are split across reads.
    #[tokio::test]
    async fn counts_responses_across_literals_and_split_reads() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            s.write_all(b"* OK ready\r\n").await.unwrap();
            let mut cmd = [0u8; 64];
            let _ = s.read(&mut cmd).await.unwrap();
            let reply: &[u8] = b"* 1 FETCH (BODY[] {12}\r\nb1 OK fake\r\n UID 4)\r\n* SEARCH 1 2 3\r\n* 2 FETCH (FLAGS ())\r\nb1 OK done\r\n";
            for b in reply {
                s.write_all(&[*b]).await.unwrap();
                s.flush().await.unwrap();
            }
        });
        let mut c = Client::connect("127.0.0.1", port).await.unwrap();
        let (r, n) = c.cmd_count("FETCH 1:* (BODY[])").await.unwrap();
        assert!(r.ok());
        assert_eq!(n, 3);
        assert_eq!(r.text, "done (search hits 3)");
        server.await.unwrap();
    }

    /// `pipelined` sends every command in one write and waits for each
    /// tagged reply in turn; a refused one is an error.
    #[tokio::test]
    async fn pipelined_commands_are_sent_at_once_and_all_awaited() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (s, _) = listener.accept().await.unwrap();
            let (rd, mut wr) = s.into_split();
            wr.write_all(b"* OK ready\r\n").await.unwrap();
            let mut lines = BufReader::new(rd).lines();
            let mut tags = Vec::new();
            while tags.len() < 5 {
                let l = lines.next_line().await.unwrap().unwrap();
                tags.push(l.split(' ').next().unwrap().to_string());
            }
            // Nothing is answered before all five arrived: the client must
            // not wait for a reply between commands.
            for (i, t) in tags.iter().enumerate() {
                let status = if i == 4 { "NO" } else { "OK" };
                wr.write_all(format!("* 3 EXISTS\r\n{t} {status} [READ-WRITE] done\r\n").as_bytes()).await.unwrap();
            }
            tags
        });
        let mut c = Client::connect("127.0.0.1", port).await.unwrap();
        c.timeout = Duration::from_secs(10);
        let err = c.pipelined("SELECT INBOX", 5).await.unwrap_err();
        assert!(err.to_string().contains("SELECT INBOX"), "{err}");
        let tags = server.await.unwrap();
        assert_eq!(tags, vec!["b1", "b2", "b3", "b4", "b5"]);
    }
}
