//! ManageSieve (RFC 5804): how users upload and switch their Sieve filters
//! (sieve-connect, Thunderbird's sieve add-on, Roundcube's managesieve
//! plugin).
//!
//! One task per TCP connection (`[listen] managesieve`, `serve --managesieve`,
//! default `127.0.0.1:4190`). States: not authenticated (CAPABILITY,
//! STARTTLS, AUTHENTICATE PLAIN/LOGIN, NOOP, LOGOUT) → authenticated (the
//! script commands, UNAUTHENTICATE). Plain-text authentication is refused
//! with `NO (ENCRYPT-NEEDED)` on non-TLS connections from non-loopback peers
//! unless `[auth] allow_plaintext`, as for IMAP.
//!
//! Scripts are validated by the interpreter's compiler (PUTSCRIPT/CHECKSCRIPT
//! answer `NO "line L, column C: …"`); limits are `[sieve] max_scripts`
//! (`NO (QUOTA/MAXSCRIPTS)`) and `max_script_size` (`NO (QUOTA/MAXSIZE)`).
//! The last runtime error of a script at delivery is shown as
//! `OK (WARNINGS) "…"` after GETSCRIPT and SETACTIVE of that script.
//!
//! COMPRESS: RFC 5804 defines no compression, and no draft does either; postfach
//! offers RFC 4978's IMAP COMPRESS=DEFLATE in ManageSieve form — capability
//! `"COMPRESS" "DEFLATE"`, command `COMPRESS "DEFLATE"` after authentication,
//! raw DEFLATE in both directions from right after the `OK` (the stream of
//! [`crate::compress`], a sync flush at the end of every response burst).
//! Clients that do not know it ignore the capability (RFC 5804 §1.7).
//!
//! Literals: `{N+}` and `{N}` (no continuation either way). Before
//! authentication a literal may hold 8 KiB (SASL); after, four times
//! `max_script_size` (so an oversized PUTSCRIPT gets a QUOTA answer); a
//! larger one closes the connection with BYE.

pub mod parser;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::imap::connection::Stream;
use crate::imap::server::{Shared, Slot};
use parser::{parse_command, string, Parse, Token};

/// Longest command line outside literals.
const MAX_LINE: usize = 8 * 1024;
/// Largest literal before authentication (SASL responses).
const MAX_LITERAL_UNAUTH: usize = 8 * 1024;
/// Syntax errors on one connection before BYE.
const MAX_BAD_COMMANDS: u32 = 20;

/// Accepts ManageSieve connections until the task is dropped.
pub async fn accept(listener: TcpListener, shared: Arc<Shared>) {
    let mut tls = (*shared.tls).clone();
    tls.alpn_protocols = Vec::new();
    let tls = Arc::new(tls);
    let mut conns = JoinSet::new();
    loop {
        let permit = crate::imap::server::connection_permit(&shared).await;
        let (tcp, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                crate::imap::server::accept_failed(e, "ManageSieve").await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let shared = shared.clone();
        let tls = tls.clone();
        conns.spawn(async move {
            let _permit = permit;
            let Some(_slot) = shared.per_ip.acquire(peer.ip(), shared.config.limits.max_connections_per_ip).await
            else {
                let mut tcp = tcp;
                let _ = tcp.write_all(b"BYE \"too many connections from your address\"\r\n").await;
                return;
            };
            let mut s = Session {
                shared,
                tls_config: tls,
                stream: Stream::Plain(tcp),
                buf: Vec::new(),
                out: Vec::new(),
                peer,
                tls: false,
                user: None,
                auth_failures: 0,
                bad: 0,
            };
            if let Err(e) = s.serve().await {
                tracing::debug!(%peer, error = %e, "ManageSieve connection ended");
            }
        });
        while conns.try_join_next().is_some() {}
    }
}

struct User {
    name: String,
    account: Arc<store::Account>,
    _slot: Slot<store::AccountId>,
}

struct Session {
    shared: Arc<Shared>,
    tls_config: Arc<rustls::ServerConfig>,
    stream: Stream,
    buf: Vec<u8>,
    out: Vec<u8>,
    peer: SocketAddr,
    tls: bool,
    user: Option<User>,
    auth_failures: u32,
    bad: u32,
}

enum Flow {
    Continue,
    Close,
}

/// A `NO`/`OK` answer: optional response code, text.
fn resp(kind: &str, code: Option<&str>, text: &str) -> Vec<u8> {
    let mut out = kind.as_bytes().to_vec();
    if let Some(c) = code {
        out.extend_from_slice(format!(" ({c})").as_bytes());
    }
    if !text.is_empty() {
        out.push(b' ');
        out.extend_from_slice(&string(text.as_bytes()));
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// RFC 5804 §1.6: a script name is non-empty UTF-8 without control
/// characters, line or paragraph separators. 128 characters at most.
pub(crate) fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= 128
        && !name.chars().any(|c| c.is_control() || c == '\u{2028}' || c == '\u{2029}')
}

impl Session {
    fn timeout(&self) -> Duration {
        let l = &self.shared.config.limits;
        Duration::from_secs(if self.user.is_some() {
            l.idle_timeout_authenticated
        } else {
            l.idle_timeout_unauthenticated
        })
    }

    fn max_literal(&self) -> usize {
        if self.user.is_some() {
            self.shared.config.sieve.max_script_size.saturating_mul(4).max(MAX_LITERAL_UNAUTH)
        } else {
            MAX_LITERAL_UNAUTH
        }
    }

    async fn flush(&mut self) -> std::io::Result<()> {
        if !self.out.is_empty() {
            let out = std::mem::take(&mut self.out);
            tokio::time::timeout(Duration::from_secs(60), self.stream.write_all(&out))
                .await
                .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
            self.stream.flush().await?;
        }
        Ok(())
    }

    /// The next parsed command (or error); `None` at EOF or timeout.
    async fn next(&mut self) -> std::io::Result<Option<Parse>> {
        loop {
            match parse_command(&self.buf, MAX_LINE, self.max_literal()) {
                Parse::NeedMore => {}
                other => return Ok(Some(other)),
            }
            self.flush().await?;
            let mut chunk = [0u8; 16 * 1024];
            let n = match tokio::time::timeout(self.timeout(), self.stream.read(&mut chunk)).await {
                Err(_) => {
                    self.out.extend_from_slice(&resp("BYE", None, "idle timeout"));
                    let _ = self.flush().await;
                    return Ok(None);
                }
                Ok(r) => r?,
            };
            if n == 0 {
                return Ok(None);
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    fn capabilities(&mut self) {
        let mut c = Vec::new();
        c.push(format!("\"IMPLEMENTATION\" \"postfach {}\"", env!("CARGO_PKG_VERSION")));
        c.push(format!("\"SIEVE\" \"{}\"", sieve::EXTENSIONS.join(" ")));
        let sasl = if self.plaintext_refused() { "" } else { "PLAIN LOGIN" };
        c.push(format!("\"SASL\" \"{sasl}\""));
        if !self.tls && !self.compressed() {
            c.push("\"STARTTLS\"".into());
        }
        if !self.compressed() {
            c.push("\"COMPRESS\" \"DEFLATE\"".into());
        }
        c.push(format!("\"MAXREDIRECTS\" \"{}\"", sieve::Limits::default().max_redirects));
        if let Some(u) = &self.user {
            c.push(format!("\"OWNER\" {}", String::from_utf8_lossy(&string(u.name.as_bytes()))));
        }
        c.push("\"VERSION\" \"1.0\"".into());
        for line in c {
            self.out.extend_from_slice(line.as_bytes());
            self.out.extend_from_slice(b"\r\n");
        }
    }

    fn compressed(&self) -> bool {
        matches!(self.stream, Stream::Deflate(_))
    }

    fn plaintext_refused(&self) -> bool {
        !self.tls && !self.peer.ip().is_loopback() && !self.shared.config.auth.allow_plaintext
    }

    async fn serve(&mut self) -> std::io::Result<()> {
        self.capabilities();
        self.out.extend_from_slice(&resp("OK", None, "postfach ManageSieve ready"));
        loop {
            let Some(parsed) = self.next().await? else { return self.flush().await };
            match parsed {
                Parse::Done { tokens, consumed } => {
                    self.buf.drain(..consumed.min(self.buf.len()));
                    if let Flow::Close = self.command(tokens).await? {
                        return self.flush().await;
                    }
                }
                Parse::Error { message, consumed } => {
                    self.buf.drain(..consumed.min(self.buf.len()));
                    if self.syntax_error(&message) {
                        return self.flush().await;
                    }
                }
                Parse::Fatal(message) => {
                    self.out.extend_from_slice(&resp("BYE", None, &message));
                    return self.flush().await;
                }
                Parse::NeedMore => {}
            }
        }
    }

    /// Answers NO; true when the connection should close (too many errors).
    fn syntax_error(&mut self, message: &str) -> bool {
        self.bad += 1;
        if self.bad > MAX_BAD_COMMANDS {
            self.out.extend_from_slice(&resp("BYE", None, "too many errors"));
            return true;
        }
        self.out.extend_from_slice(&resp("NO", None, message));
        false
    }

    fn no(&mut self, code: Option<&str>, text: &str) {
        self.out.extend_from_slice(&resp("NO", code, text));
    }

    fn ok(&mut self, code: Option<&str>, text: &str) {
        self.out.extend_from_slice(&resp("OK", code, text));
    }

    /// Answers a script operation: OK, or NO with the RFC 5804 §1.3 response
    /// code for the store's refusal; other errors are the caller's.
    fn answer(&mut self, r: Result<(), store::Error>) -> Result<(), store::Error> {
        match r {
            Ok(()) => self.ok(None, ""),
            Err(store::Error::NotFound(_)) => self.no(Some("NONEXISTENT"), "no such script"),
            Err(store::Error::NotAllowed(_)) => self.no(Some("ACTIVE"), "the active script cannot be deleted"),
            Err(store::Error::Exists(_)) => self.no(Some("ALREADYEXISTS"), "a script with that name exists"),
            Err(e) => return Err(e),
        }
        Ok(())
    }

    async fn command(&mut self, tokens: Vec<Token>) -> std::io::Result<Flow> {
        let mut it = tokens.into_iter();
        let Some(Token::Atom(name)) = it.next() else {
            self.syntax_error("expected a command name");
            return Ok(Flow::Continue);
        };
        let args: Vec<Token> = it.collect();
        let name = name.to_ascii_uppercase();
        let authed = self.user.is_some();
        match (name.as_str(), authed) {
            ("CAPABILITY", _) if args.is_empty() => {
                self.capabilities();
                self.ok(None, "");
            }
            ("NOOP", _) => match args.as_slice() {
                [] => self.ok(None, "Done"),
                [Token::Str(tag)] => {
                    let code = format!("TAG {}", String::from_utf8_lossy(&string(tag)));
                    self.ok(Some(&code), "Done");
                }
                _ => return self.bad_args("NOOP [tag]"),
            },
            ("LOGOUT", _) if args.is_empty() => {
                self.ok(None, "Logout");
                return Ok(Flow::Close);
            }
            ("STARTTLS", false) if args.is_empty() => return self.starttls().await,
            ("STARTTLS", true) => self.no(None, "STARTTLS is only allowed before authentication"),
            ("AUTHENTICATE", false) => return self.authenticate(args).await,
            ("AUTHENTICATE", true) => self.no(None, "already authenticated"),
            ("COMPRESS", true) => return self.compress(args).await,
            ("UNAUTHENTICATE", true) if args.is_empty() => {
                self.user = None;
                self.ok(None, "");
            }
            (
                "PUTSCRIPT" | "CHECKSCRIPT" | "GETSCRIPT" | "LISTSCRIPTS" | "SETACTIVE" | "DELETESCRIPT"
                | "RENAMESCRIPT" | "HAVESPACE" | "UNAUTHENTICATE" | "COMPRESS",
                false,
            ) => self.no(None, "authenticate first"),
            (_, true) if self.user.is_some() => return self.script_command(&name, args).await,
            _ => {
                if self.syntax_error(&format!("unknown command or bad arguments: {name}")) {
                    return Ok(Flow::Close);
                }
            }
        }
        Ok(Flow::Continue)
    }

    fn bad_args(&mut self, usage: &str) -> std::io::Result<Flow> {
        if self.syntax_error(&format!("syntax: {usage}")) {
            return Ok(Flow::Close);
        }
        Ok(Flow::Continue)
    }

    async fn starttls(&mut self) -> std::io::Result<Flow> {
        if self.tls {
            self.no(None, "TLS is already active");
            return Ok(Flow::Continue);
        }
        if self.compressed() {
            // RFC 4978 §3: TLS goes below compression; it cannot start above it.
            self.no(None, "STARTTLS is not possible once COMPRESS is active");
            return Ok(Flow::Continue);
        }
        self.ok(None, "Begin TLS negotiation now");
        self.flush().await?;
        // Anything pipelined after STARTTLS was sent in the clear: dropped.
        self.buf.clear();
        let Stream::Plain(tcp) = std::mem::replace(&mut self.stream, Stream::Upgrading) else {
            return Ok(Flow::Close);
        };
        let acceptor = tokio_rustls::TlsAcceptor::from(self.tls_config.clone());
        match tokio::time::timeout(Duration::from_secs(30), acceptor.accept(tcp)).await {
            Ok(Ok(s)) => {
                self.stream = Stream::Tls(Box::new(s));
                self.tls = true;
                // RFC 5804 §2.2: capabilities again, over TLS.
                self.capabilities();
                self.ok(None, "TLS active");
                Ok(Flow::Continue)
            }
            _ => Ok(Flow::Close),
        }
    }

    /// postfach's COMPRESS (after RFC 4978 §3, IMAP COMPRESS): `COMPRESS
    /// "DEFLATE"`. After the `OK` the server compresses everything it sends
    /// and expects the client to compress everything it sends; bytes the
    /// client pipelined after the command are already compressed.
    async fn compress(&mut self, args: Vec<Token>) -> std::io::Result<Flow> {
        let algorithm = match args.as_slice() {
            [Token::Str(a)] => String::from_utf8_lossy(a).into_owned(),
            [Token::Atom(a)] => a.clone(),
            _ => return self.bad_args("COMPRESS \"DEFLATE\""),
        };
        if self.compressed() {
            // RFC 4978 §3 answers BAD; ManageSieve has only NO.
            self.no(None, "COMPRESS is already active");
            return Ok(Flow::Continue);
        }
        if !algorithm.eq_ignore_ascii_case("DEFLATE") {
            self.no(None, &format!("unknown compression algorithm {algorithm}"));
            return Ok(Flow::Continue);
        }
        // RFC 4978 §3: compression starts right after the CRLF of the OK.
        self.ok(None, "DEFLATE active");
        self.flush().await?;
        let inner = std::mem::replace(&mut self.stream, Stream::Upgrading);
        let pipelined = std::mem::take(&mut self.buf);
        self.stream = Stream::Deflate(Box::new(crate::compress::Deflate::new(inner, pipelined)));
        Ok(Flow::Continue)
    }

    /// Reads one client response during SASL: a string, or `"*"` to cancel.
    async fn sasl_response(&mut self, challenge: &[u8]) -> std::io::Result<Option<Result<Vec<u8>, &'static str>>> {
        // RFC 5804 §2.1: challenges are base64 strings.
        let challenge = base64::engine::general_purpose::STANDARD.encode(challenge);
        self.out.extend_from_slice(&string(challenge.as_bytes()));
        self.out.extend_from_slice(b"\r\n");
        let Some(parsed) = self.next().await? else { return Ok(None) };
        Ok(Some(match parsed {
            Parse::Done { tokens, consumed } => {
                self.buf.drain(..consumed.min(self.buf.len()));
                match tokens.as_slice() {
                    [Token::Str(s)] if s == b"*" => Err("authentication cancelled"),
                    [Token::Str(s)] => decode_b64(s).ok_or("invalid base64"),
                    _ => Err("expected a string"),
                }
            }
            Parse::Error { consumed, .. } => {
                self.buf.drain(..consumed.min(self.buf.len()));
                Err("syntax error in SASL response")
            }
            Parse::Fatal(_) | Parse::NeedMore => return Ok(None),
        }))
    }

    async fn authenticate(&mut self, args: Vec<Token>) -> std::io::Result<Flow> {
        let (mech, initial) = match args.as_slice() {
            [Token::Str(m)] => (m.clone(), None),
            [Token::Str(m), Token::Str(ir)] => (m.clone(), Some(ir.clone())),
            _ => return self.bad_args("AUTHENTICATE \"PLAIN\"|\"LOGIN\" [initial-response]"),
        };
        let mech = String::from_utf8_lossy(&mech).to_ascii_uppercase();
        if self.plaintext_refused() {
            self.no(Some("ENCRYPT-NEEDED"), "use STARTTLS first");
            return Ok(Flow::Continue);
        }
        let initial = match initial.map(|ir| decode_b64(&ir)) {
            Some(None) => {
                self.no(None, "invalid base64 in the initial response");
                return Ok(Flow::Continue);
            }
            Some(Some(v)) => Some(v),
            None => None,
        };
        let credentials: Result<(String, String), &str> = match mech.as_str() {
            "PLAIN" => {
                let resp = match initial {
                    Some(r) => Ok(r),
                    None => match self.sasl_response(b"").await? {
                        Some(r) => r,
                        None => return Ok(Flow::Close),
                    },
                };
                match resp.map(|r| crate::auth::decode_plain(&r)) {
                    Ok(Some((authz, user, pass))) if authz.is_empty() || authz == user => {
                        Ok((user, pass.as_str().to_string()))
                    }
                    Ok(Some(_)) => Err("authorization identity differs from the login"),
                    Ok(None) => Err("malformed PLAIN response"),
                    Err(e) => Err(e),
                }
            }
            "LOGIN" => {
                let user = match initial {
                    Some(u) => Ok(u),
                    None => match self.sasl_response(b"Username:").await? {
                        Some(r) => r,
                        None => return Ok(Flow::Close),
                    },
                };
                match user {
                    Err(e) => Err(e),
                    Ok(user) => match self.sasl_response(b"Password:").await? {
                        None => return Ok(Flow::Close),
                        Some(Err(e)) => Err(e),
                        Some(Ok(pass)) => match (String::from_utf8(user), String::from_utf8(pass)) {
                            (Ok(u), Ok(p)) if !u.is_empty() => Ok((u, p)),
                            _ => Err("malformed LOGIN response"),
                        },
                    },
                }
            }
            _ => {
                self.no(None, "unsupported SASL mechanism");
                return Ok(Flow::Continue);
            }
        };
        let (user, pass) = match credentials {
            Ok(c) => c,
            Err(e) => {
                self.no(None, e);
                return Ok(Flow::Continue);
            }
        };
        let store = self.shared.store.clone();
        let u = user.clone();
        let found = tokio::task::spawn_blocking(move || {
            crate::auth::authenticate(&store, &u, &pass).map(|id| store.account(id).map(|a| (id, a)))
        })
        .await
        .ok()
        .flatten();
        match found {
            Some(Ok((id, account))) => {
                let max = self.shared.config.limits.max_connections_per_account;
                let Some(slot) = self.shared.per_account.acquire(id, max).await else {
                    self.no(Some("TRYLATER"), "too many connections for this account");
                    return Ok(Flow::Continue);
                };
                tracing::info!(user = %user, peer = %self.peer, "ManageSieve login");
                self.user = Some(User { name: user, account, _slot: slot });
                self.ok(None, "Logged in");
            }
            Some(Err(e)) => {
                tracing::warn!(error = %e, "cannot open account");
                self.no(Some("TRYLATER"), "temporary failure");
            }
            None => {
                self.auth_failures += 1;
                tracing::info!(user = %user, peer = %self.peer, "ManageSieve authentication failed");
                if self.auth_failures >= self.shared.config.limits.max_auth_failures {
                    self.out.extend_from_slice(&resp("BYE", None, "too many authentication failures"));
                    return Ok(Flow::Close);
                }
                self.no(None, "authentication failed");
            }
        }
        Ok(Flow::Continue)
    }

    async fn script_command(&mut self, name: &str, args: Vec<Token>) -> std::io::Result<Flow> {
        let Some(user) = &self.user else { return Ok(Flow::Continue) };
        let account = user.account.clone();
        let strs: Option<Vec<String>> = args
            .iter()
            .map(|t| match t {
                Token::Str(s) => String::from_utf8(s.clone()).ok(),
                Token::Atom(_) => None,
            })
            .collect();
        let sieve_cfg = self.shared.config.sieve.clone();
        let r = match (name, strs.as_deref(), args.as_slice()) {
            ("LISTSCRIPTS", Some([]), _) => match account.sieve_scripts().await {
                Ok(list) => {
                    for s in list {
                        self.out.extend_from_slice(&string(s.name.as_bytes()));
                        if s.active {
                            self.out.extend_from_slice(b" ACTIVE");
                        }
                        self.out.extend_from_slice(b"\r\n");
                    }
                    {
                        self.ok(None, "");
                        Ok(())
                    }
                }
                Err(e) => Err(e),
            },
            ("PUTSCRIPT", Some([n, content]), _) => self.putscript(&account, n, content, &sieve_cfg).await,
            ("CHECKSCRIPT", Some([content]), _) => {
                if content.len() > sieve_cfg.max_script_size {
                    self.no(Some("QUOTA/MAXSIZE"), "script is too large");
                } else {
                    match crate::delivery::filter::compiler(&self.shared.config).compile(content) {
                        Ok(_) => self.ok(None, ""),
                        Err(e) => self.no(None, &e.to_string()),
                    }
                }
                Ok(())
            }
            ("GETSCRIPT", Some([n]), _) => match account.sieve_script(n).await {
                Ok(Some(content)) => {
                    self.out.extend_from_slice(&string(content.as_bytes()));
                    self.out.extend_from_slice(b"\r\n");
                    self.ok_with_warnings(&account, n).await;
                    Ok(())
                }
                Ok(None) => {
                    self.no(Some("NONEXISTENT"), "no such script");
                    Ok(())
                }
                Err(e) => Err(e),
            },
            ("SETACTIVE", Some([n]), _) => {
                let target = if n.is_empty() { None } else { Some(n.as_str()) };
                match account.set_sieve_active(target).await {
                    Ok(()) if target.is_some() => {
                        self.ok_with_warnings(&account, n).await;
                        Ok(())
                    }
                    other => self.answer(other),
                }
            }
            ("DELETESCRIPT", Some([n]), _) => {
                let r = account.delete_sieve_script(n).await;
                self.answer(r)
            }
            ("RENAMESCRIPT", Some([old, new]), _) => {
                if !valid_name(new) {
                    self.no(None, "invalid script name");
                    Ok(())
                } else {
                    let r = account.rename_sieve_script(old, new).await;
                    self.answer(r)
                }
            }
            ("HAVESPACE", _, [Token::Str(n), Token::Atom(size)]) => {
                let n = String::from_utf8_lossy(n).into_owned();
                match size.parse::<u64>() {
                    Err(_) => return self.bad_args("HAVESPACE name size"),
                    Ok(size) => match self.check_space(&account, &n, size, &sieve_cfg).await {
                        Ok(None) => {
                            self.ok(None, "");
                            Ok(())
                        }
                        Ok(Some((code, text))) => {
                            self.no(Some(code), text);
                            Ok(())
                        }
                        Err(e) => Err(e),
                    },
                }
            }
            ("LISTSCRIPTS", ..) => return self.bad_args("LISTSCRIPTS"),
            ("PUTSCRIPT", ..) => return self.bad_args("PUTSCRIPT name script"),
            ("CHECKSCRIPT", ..) => return self.bad_args("CHECKSCRIPT script"),
            ("GETSCRIPT", ..) => return self.bad_args("GETSCRIPT name"),
            ("SETACTIVE", ..) => return self.bad_args("SETACTIVE name"),
            ("DELETESCRIPT", ..) => return self.bad_args("DELETESCRIPT name"),
            ("RENAMESCRIPT", ..) => return self.bad_args("RENAMESCRIPT old new"),
            ("HAVESPACE", ..) => return self.bad_args("HAVESPACE name size"),
            (other, ..) => {
                let other = other.to_string();
                if self.syntax_error(&format!("unknown command or bad arguments: {other}")) {
                    return Ok(Flow::Close);
                }
                Ok(())
            }
        };
        if let Err(e) = r {
            tracing::warn!(error = %e, "ManageSieve store error");
            self.no(Some("TRYLATER"), "temporary failure");
        }
        Ok(Flow::Continue)
    }

    /// `OK`, or `OK (WARNINGS) "…"` when the script's last delivery run failed.
    async fn ok_with_warnings(&mut self, account: &store::Account, name: &str) {
        match account.sieve_error(name).await {
            Ok(Some(e)) => {
                let when = chrono::DateTime::from_timestamp(e.at, 0).map(|d| d.to_rfc3339()).unwrap_or_default();
                self.ok(Some("WARNINGS"), &format!("last run at delivery failed ({when}): {}", e.message));
            }
            _ => self.ok(None, ""),
        }
    }

    /// `None` when `size` more octets fit for script `name`, else the
    /// response code and text (RFC 5804 §2.5).
    async fn check_space(
        &self,
        account: &store::Account,
        name: &str,
        size: u64,
        cfg: &crate::config::Sieve,
    ) -> store::Result<Option<(&'static str, &'static str)>> {
        if size > cfg.max_script_size as u64 {
            return Ok(Some(("QUOTA/MAXSIZE", "script is too large")));
        }
        let list = account.sieve_scripts().await?;
        if !list.iter().any(|s| s.name == name) && list.len() >= cfg.max_scripts {
            return Ok(Some(("QUOTA/MAXSCRIPTS", "too many scripts")));
        }
        Ok(None)
    }

    async fn putscript(
        &mut self,
        account: &store::Account,
        name: &str,
        content: &str,
        cfg: &crate::config::Sieve,
    ) -> store::Result<()> {
        if !valid_name(name) {
            self.no(None, "invalid script name");
            return Ok(());
        }
        if let Some((code, text)) = self.check_space(account, name, content.len() as u64, cfg).await? {
            self.no(Some(code), text);
            return Ok(());
        }
        if let Err(e) = crate::delivery::filter::compiler(&self.shared.config).compile(content) {
            self.no(None, &e.to_string());
            return Ok(());
        }
        account.put_sieve_script(name, content).await?;
        self.ok(None, "");
        Ok(())
    }
}

fn decode_b64(s: &[u8]) -> Option<Vec<u8>> {
    let s: Vec<u8> = s.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(&s).ok()
}
