//! The IMAP state machine (RFC 9051 §3): one [`Session`] per connection, one
//! file per command.
//!
//! ```text
//!            +----------------------+
//!            |connection established|
//!            +----------------------+
//!                       ||
//!                       \/
//!     +--------------------------------------+
//!     |          server greeting             |
//!     +--------------------------------------+
//!               || (1)       || (2)        || (3)
//!               \/           ||            ||
//!     +-----------------+    ||            ||
//!     |Not Authenticated|    ||            ||
//!     +-----------------+    ||            ||
//!      || (7)   || (4)       ||            ||
//!      ||       \/           \/            ||
//!      ||     +----------------+           ||
//!      ||     | Authenticated  |<=++       ||
//!      ||     +----------------+  ||       ||
//!      ||       || (7)   || (5)   || (6)   ||
//!      ||       ||       \/       ||       ||
//!      ||       ||    +--------+  ||       ||
//!      ||       ||    |Selected|==++       ||
//!      ||       ||    +--------+           ||
//!      ||       ||       || (7)            ||
//!      \/       \/       \/                \/
//!     +--------------------------------------+
//!     |               Logout                 |
//!     +--------------------------------------+
//! ```
//!
//! Invariants of this module:
//! - Which command is allowed in which state is decided in one place,
//!   [`allowed`], and swept by `tests/imap_state.rs`.
//! - Nothing holds a store transaction or lock while writing to the socket:
//!   store calls return owned data, and responses are written afterwards.
//! - Untagged EXPUNGE is never sent while answering FETCH, STORE or SEARCH
//!   (RFC 9051 §7.5.1); see [`crate::imap::selected`].

mod append;
mod authenticate;
mod cancelupdate;
mod capability;
mod close;
mod copy;
mod create;
mod delete;
mod enable;
mod expunge;
mod fetch;
mod id;
mod idle;
mod list;
mod login;
mod logout;
mod lsub;
mod metadata;
mod namespace;
mod noop;
mod notify;
mod partial;
mod quota;
mod rename;
mod replace;
mod search;
mod select;
mod sort;
mod starttls;
mod status;
mod store;
mod subscribe;
mod thread;
mod unselect;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ::store::{Account, Change};
use imap_proto::parser::{self, ParseLimits};
use imap_proto::{
    encoder, Code, Command, CommandBody, Data, FetchValue, Flag, MailboxName, Response, SequenceSet, StatusKind,
};
use tokio::sync::broadcast;
use tracing::Instrument;

use super::connection::{Conn, Framed, Stream};
use super::error::{ImapError, Result};
use super::selected::View;
use super::server::Shared;

/// RFC 9051 §3: the state, carrying the data valid in it.
pub enum State {
    NotAuthenticated,
    Authenticated { account: Arc<Account>, user: String },
    Selected { account: Arc<Account>, user: String, view: View },
    Logout,
}

/// Extensions the client turned on with ENABLE (RFC 5161).
#[derive(Debug, Default, Clone, Copy)]
pub struct Enabled {
    /// IMAP4rev2 semantics: UTF-8 mailbox names, ESEARCH for SEARCH, no \Recent.
    pub imap4rev2: bool,
    pub utf8_accept: bool,
    /// RFC 7162 §3.1: MODSEQ in every FETCH response, HIGHESTMODSEQ on SELECT.
    pub condstore: bool,
    /// RFC 7162 §3.2.3: VANISHED instead of EXPUNGE; implies `condstore`.
    pub qresync: bool,
}

/// What a handler asks the connection loop to do after the tagged response.
pub enum After {
    Continue,
    StartTls,
    /// RFC 4978: compression starts right after the tagged OK.
    Compress,
    Logout,
}

/// A successful command's tagged `OK`.
pub struct Done {
    pub code: Option<Code>,
    pub text: String,
    pub after: After,
}

impl Done {
    pub fn ok(text: impl Into<String>) -> Done {
        Done { code: None, text: text.into(), after: After::Continue }
    }

    pub fn with_code(code: Code, text: impl Into<String>) -> Done {
        Done { code: Some(code), text: text.into(), after: After::Continue }
    }
}

pub struct Session {
    pub shared: Arc<Shared>,
    pub conn: Conn,
    pub state: State,
    pub peer: SocketAddr,
    pub tls: bool,
    pub enabled: Enabled,
    /// The account's change feed, once authenticated.
    pub feed: Option<broadcast::Receiver<Change>>,
    /// Failed LOGIN/AUTHENTICATE attempts on this connection.
    pub auth_failures: u32,
    /// NOTIFY settings (RFC 5465); `None` until NOTIFY SET or after NOTIFY NONE.
    pub notify: Option<notify::NotifyState>,
    /// This connection's place under `limits.max_connections_per_account`.
    pub account_slot: Option<super::server::Slot<::store::AccountId>>,
    pub commands: u64,
    /// Unique in the process; tags this connection's METADATA changes on the
    /// feed, so that NOTIFY does not report them back to it (RFC 5465 §5).
    pub origin: u64,
}

/// Which commands each state accepts (RFC 9051 §6: "Client Commands - Any
/// State", "- Not Authenticated State", "- Authenticated State", "- Selected
/// State").
pub fn allowed(state: &State, cmd: &CommandBody) -> bool {
    use CommandBody::*;
    let any = matches!(cmd, Capability | Noop | Logout | Id { .. });
    match state {
        State::NotAuthenticated => any || matches!(cmd, StartTls | Authenticate { .. } | Login { .. }),
        State::Authenticated { .. } => any || is_authenticated_command(cmd),
        State::Selected { .. } => {
            any || is_authenticated_command(cmd)
                || matches!(
                    cmd,
                    Check
                        | Close
                        | Unselect
                        | Expunge
                        | UidExpunge { .. }
                        | Search { .. }
                        | Sort { .. }
                        | Thread { .. }
                        | Fetch { .. }
                        | Store { .. }
                        | Copy { .. }
                        | Move { .. }
                        | CancelUpdate { .. }
                        | Replace { .. }
                )
        }
        State::Logout => false,
    }
}

fn is_authenticated_command(cmd: &CommandBody) -> bool {
    use CommandBody::*;
    matches!(
        cmd,
        Enable { .. }
            | Select { .. }
            | Create { .. }
            | Delete { .. }
            | Rename { .. }
            | Subscribe { .. }
            | Unsubscribe { .. }
            | List(_)
            | Lsub { .. }
            | Namespace
            | Status { .. }
            | Append { .. }
            | Idle
            | Notify(_)
            | Compress { .. }
            | Unauthenticate
            | GetQuota { .. }
            | GetQuotaRoot { .. }
            | SetQuota { .. }
            | GetMetadata { .. }
            | SetMetadata { .. }
    )
}

/// Runs a connection to its end.
pub async fn run(shared: Arc<Shared>, stream: Stream, peer: SocketAddr, tls: bool) {
    let span = tracing::info_span!("imap", %peer, tls);
    async move {
        let conn = Conn::new(stream, shared.config.limits.clone(), shared.spool_dir.clone());
        let mut session = Session {
            shared,
            conn,
            state: State::NotAuthenticated,
            peer,
            tls,
            enabled: Enabled::default(),
            feed: None,
            auth_failures: 0,
            account_slot: None,
            notify: None,
            commands: 0,
            origin: metadata::new_origin(),
        };
        match session.serve().await {
            Ok(()) => tracing::debug!("connection closed"),
            Err(e) => tracing::debug!(error = %e, "connection ended"),
        }
    }
    .instrument(span)
    .await
}

impl Session {
    async fn serve(&mut self) -> std::io::Result<()> {
        let caps = self.capabilities().join(" ");
        self.write(&Response::Status {
            tag: None,
            kind: StatusKind::Ok,
            code: Some(Code::Capability(caps.split(' ').map(String::from).collect())),
            text: "postfach ready".into(),
        });
        self.conn.flush().await?;
        loop {
            let timeout = Duration::from_secs(match self.state {
                State::NotAuthenticated => self.shared.config.limits.idle_timeout_unauthenticated,
                _ => self.shared.config.limits.idle_timeout_authenticated,
            });
            // With NOTIFY, events are told while no command is in progress
            // (RFC 5465 §3.1), and so are the updates of RFC 5267 §4.3.2
            // contexts: wait for either input or an event.
            if (self.notify.is_some() || self.has_update_contexts()) && !self.wait_for_input(timeout).await? {
                self.bye("autologout: idle for too long");
                return self.conn.flush().await;
            }
            let framed = match tokio::time::timeout(timeout, self.conn.read_command()).await {
                Ok(r) => r?,
                Err(_) => {
                    self.bye("autologout: idle for too long");
                    return self.conn.flush().await;
                }
            };
            let after = match framed {
                Framed::Eof => return Ok(()),
                Framed::Fatal(text) => {
                    self.bye(&text);
                    return self.conn.flush().await;
                }
                Framed::Bad { tag, text, code } => {
                    self.write(&Response::Status { tag, kind: StatusKind::Bad, code, text });
                    After::Continue
                }
                Framed::TooBig { tag, text } => {
                    self.write(&Response::Status { tag, kind: StatusKind::No, code: Some(Code::TooBig), text });
                    After::Continue
                }
                Framed::Command(frags) => {
                    let limits = ParseLimits { max_depth: self.shared.config.limits.max_nesting };
                    match parser::parse_command(frags, &limits) {
                        Ok(cmd) => self.execute(cmd).await,
                        Err(e) => {
                            self.write(&Response::Status {
                                tag: e.tag,
                                kind: StatusKind::Bad,
                                code: None,
                                text: e.message,
                            });
                            After::Continue
                        }
                    }
                }
            };
            // Spooled literals of the finished command are removed here.
            self.conn.spool.0.clear();
            self.commands += 1;
            // A pipelined command already waiting takes this one's responses
            // along; anything else (STARTTLS, COMPRESS, LOGOUT, a limit) has
            // them written first.
            if !(matches!(after, After::Continue) && self.conn.command_waiting()) {
                self.conn.flush().await?;
            }
            match after {
                After::Continue => {}
                After::Logout => return Ok(()),
                After::StartTls => self.start_tls().await?,
                After::Compress => self.start_compress(),
            }
            if matches!(self.state, State::Logout) {
                return self.conn.flush().await;
            }
            let max = self.shared.config.limits.max_commands_per_connection;
            if max > 0 && self.commands >= max {
                self.bye("too many commands on this connection, please reconnect");
                return self.conn.flush().await;
            }
        }
    }

    /// Until the client sends something, tells NOTIFY events as they come.
    /// Returns false when `timeout` passed with no input.
    async fn wait_for_input(&mut self, timeout: Duration) -> std::io::Result<bool> {
        use tokio::io::AsyncBufReadExt;
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let Some(feed) = self.feed.as_mut() else { return Ok(true) };
            tokio::select! {
                r = self.conn.io.fill_buf() => {
                    r?;
                    return Ok(true);
                }
                change = feed.recv() => {
                    let result = match change {
                        Ok(change) if self.notify.is_some() => self.notify_change(change).await,
                        // Missed events: resynchronise the selected mailbox.
                        Err(_) if self.notify.is_some() => self.sync_selected_now(true).await,
                        // Update contexts without NOTIFY (RFC 5267 §4.3.2):
                        // ESEARCH, EXISTS and FETCH now; EXPUNGE waits for a
                        // command (RFC 9051 §7.5.1).
                        Ok(Change::Mailbox { .. }) | Err(broadcast::error::RecvError::Lagged(_)) => {
                            self.sync_selected_now(false).await
                        }
                        Ok(Change::MailboxList | Change::Metadata { .. }) => Ok(()),
                        Err(broadcast::error::RecvError::Closed) => return Ok(true),
                    };
                    if let Err(e) = result {
                        let resp = e.into_response(None);
                        self.write(&resp);
                    }
                    self.conn.flush().await?;
                }
                _ = tokio::time::sleep_until(deadline) => return Ok(false),
            }
        }
    }

    /// Runs one command in the current state and writes its tagged response.
    async fn execute(&mut self, cmd: Command) -> After {
        let tag = cmd.tag.clone();
        let name = cmd.body.name();
        if !allowed(&self.state, &cmd.body) {
            let text = match self.state {
                State::NotAuthenticated => format!("{name} is not allowed before authentication"),
                State::Authenticated { .. } => format!("{name} needs a selected mailbox"),
                _ => format!("{name} is not allowed now"),
            };
            self.write(&Response::Status { tag: Some(tag), kind: StatusKind::Bad, code: None, text });
            return After::Continue;
        }
        tracing::debug!(command = name, "command");
        if is_condstore_enabling(&cmd.body) {
            self.enable_condstore().await;
        }
        let result = self.dispatch(cmd.body, &tag).await;
        if matches!(name, "CREATE" | "DELETE" | "RENAME" | "SUBSCRIBE" | "UNSUBSCRIBE") {
            if let Err(e) = self.notify_absorb_own_changes().await {
                tracing::warn!(error = %e, "NOTIFY state refresh failed");
            }
        }
        let result = match result {
            // Changes from other sessions, before the tagged OK (RFC 9051 §7).
            Ok(done) => match self.sync_selected(allows_expunge(name)).await {
                Ok(()) => Ok(done),
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        match result {
            Ok(done) => {
                self.write(&Response::Status {
                    tag: Some(tag),
                    kind: StatusKind::Ok,
                    code: done.code,
                    text: done.text,
                });
                done.after
            }
            Err(ImapError::Bye(text)) => {
                self.bye(&text);
                After::Logout
            }
            Err(e) => {
                let resp = e.into_response(Some(tag));
                self.write(&resp);
                After::Continue
            }
        }
    }

    async fn dispatch(&mut self, body: CommandBody, tag: &imap_proto::Tag) -> Result<Done> {
        use CommandBody as C;
        match body {
            C::Capability => self.cmd_capability(),
            C::Noop | C::Check => self.cmd_noop(),
            C::Logout => self.cmd_logout(),
            C::StartTls => self.cmd_starttls(),
            C::Authenticate { mechanism, initial_response } => {
                self.cmd_authenticate(&mechanism, initial_response.map(|s| s.0)).await
            }
            C::Login { username, password } => self.cmd_login(&username, password.expose()).await,
            C::Enable { capabilities } => self.cmd_enable(&capabilities),
            C::Select { mailbox, read_only, params } => self.cmd_select(&mailbox, read_only, params).await,
            C::Create { mailbox, special_use } => self.cmd_create(&mailbox, &special_use).await,
            C::Delete { mailbox } => self.cmd_delete(&mailbox).await,
            C::Rename { from, to } => self.cmd_rename(&from, &to).await,
            C::Subscribe { mailbox } => self.cmd_subscribe(&mailbox, true).await,
            C::Unsubscribe { mailbox } => self.cmd_subscribe(&mailbox, false).await,
            C::List(list) => self.cmd_list(list).await,
            C::Lsub { reference, pattern } => self.cmd_lsub(&reference, &pattern).await,
            C::Namespace => self.cmd_namespace(),
            C::Status { mailbox, items } => self.cmd_status(&mailbox, &items).await,
            C::Append { mailbox, messages } => self.cmd_append(&mailbox, messages).await,
            C::Replace { uid, target, mailbox, message } => self.cmd_replace(uid, target, &mailbox, message).await,
            C::Idle => self.cmd_idle(tag).await,
            C::Close => self.cmd_close().await,
            C::Unselect => self.cmd_unselect(),
            C::Expunge => self.cmd_expunge(None).await,
            C::UidExpunge { set } => self.cmd_expunge(Some(set)).await,
            C::Search { uid, charset, ret, criteria } => self.cmd_search(tag, uid, charset, ret, criteria).await,
            C::Fetch { uid, set, items, changed_since, vanished, partial } => {
                let Some(set) = self.partial_set(set, uid, partial)? else {
                    return Ok(Done::ok("UID FETCH completed"));
                };
                self.cmd_fetch(uid, &set, items, changed_since, vanished).await
            }
            C::Store { uid, set, action, unchanged_since } => self.cmd_store(uid, &set, action, unchanged_since).await,
            C::Copy { uid, set, mailbox } => self.cmd_copy(uid, &set, &mailbox, false).await,
            C::Move { uid, set, mailbox } => self.cmd_copy(uid, &set, &mailbox, true).await,
            C::Id { params } => self.cmd_id(params),
            C::Notify(set) => self.cmd_notify(set).await,
            C::Compress { algorithm } => self.cmd_compress(&algorithm),
            C::Unauthenticate => self.cmd_unauthenticate(),
            C::Sort { uid, ret, criteria, charset, search } => {
                self.cmd_sort(tag, uid, ret, criteria, &charset, search).await
            }
            C::Thread { uid, algorithm, charset, search } => self.cmd_thread(uid, algorithm, &charset, search).await,
            C::GetQuota { root } => self.cmd_getquota(&root).await,
            C::GetQuotaRoot { mailbox } => self.cmd_getquotaroot(&mailbox).await,
            C::SetQuota { .. } => self.cmd_setquota(),
            C::CancelUpdate { tags } => self.cmd_cancelupdate(&tags),
            C::GetMetadata { mailbox, options, entries } => self.cmd_getmetadata(&mailbox, options, entries).await,
            C::SetMetadata { mailbox, entries } => self.cmd_setmetadata(&mailbox, entries).await,
        }
    }

    // ----- helpers shared by the command handlers -----

    pub fn write(&mut self, resp: &Response) {
        encoder::encode(resp, &mut self.conn.out);
    }

    pub fn data(&mut self, mut data: Data) {
        if let Data::Fetch { seq, items } = &mut data {
            self.decorate_flags(*seq, items);
        }
        self.write(&Response::Data(data));
    }

    /// Writes a FETCH response as [`Session::data`] does and hands its item
    /// vector back, so that a `1:*` of a large mailbox reuses one allocation.
    pub fn fetch_data(&mut self, seq: u32, mut items: Vec<FetchValue>) -> Vec<FetchValue> {
        self.decorate_flags(seq, &mut items);
        let resp = Response::Data(Data::Fetch { seq, items });
        encoder::encode(&resp, &mut self.conn.out);
        match resp {
            Response::Data(Data::Fetch { items, .. }) => items,
            _ => Vec::new(),
        }
    }

    /// Every FETCH response with FLAGS passes here, whatever sent it: adds
    /// `\Recent` for this session's recent messages (IMAP4rev1, RFC 3501
    /// §2.3.2), and when a keyword appears that the client was not told in
    /// `FLAGS` yet, first sends the new `FLAGS` and `PERMANENTFLAGS`
    /// (RFC 9051 §7.3.5: FLAGS "MUST be sent" when the set changes).
    fn decorate_flags(&mut self, seq: u32, items: &mut [FetchValue]) {
        let rev1 = !self.enabled.imap4rev2;
        let State::Selected { view, .. } = &mut self.state else { return };
        let Some(FetchValue::Flags(flags)) = items.iter_mut().find(|i| matches!(i, FetchValue::Flags(_))) else {
            return;
        };
        let mut announce = false;
        for f in flags.iter() {
            if let Flag::Keyword(k) = f {
                if !view.keywords.iter().any(|t| t.eq_ignore_ascii_case(k)) {
                    view.keywords.push(k.clone());
                    announce = true;
                }
            }
        }
        let uid = view.uids.get((seq as usize).wrapping_sub(1)).copied();
        if rev1 && uid.is_some_and(|u| view.is_recent(u)) && !flags.contains(&Flag::Recent) {
            flags.push(Flag::Recent);
        }
        if announce {
            view.keywords.sort_by_key(|k| k.to_ascii_lowercase());
            let (all, perm) = select::flags_and_permanent(&view.keywords);
            let read_only = view.read_only;
            self.write(&Response::Data(Data::Flags(all)));
            if !read_only {
                self.untagged_ok(Code::PermanentFlags(perm), "flags permitted");
            }
        }
    }

    pub fn bye(&mut self, text: &str) {
        self.write(&Response::Status { tag: None, kind: StatusKind::Bye, code: None, text: text.into() });
        self.state = State::Logout;
    }

    /// The account of an authenticated session.
    pub fn account(&self) -> Result<Arc<Account>> {
        match &self.state {
            State::Authenticated { account, .. } | State::Selected { account, .. } => Ok(account.clone()),
            _ => Err(ImapError::bad("not authenticated")),
        }
    }

    pub fn view(&mut self) -> Result<&mut View> {
        match &mut self.state {
            State::Selected { view, .. } => Ok(view),
            _ => Err(ImapError::bad("no mailbox selected")),
        }
    }

    /// Whether mailbox names travel as UTF-8 (IMAP4rev2 or UTF8=ACCEPT
    /// enabled) or as modified UTF-7 (RFC 9051 Appendix A.1).
    pub fn utf8_names(&self) -> bool {
        self.enabled.imap4rev2 || self.enabled.utf8_accept
    }

    /// Wire name → internal UTF-8 name, with `INBOX` case-folded (RFC 9051 §5.1).
    pub fn mailbox_name(&self, name: &MailboxName) -> Result<String> {
        let decoded = if self.utf8_names() || !name.0.contains('&') {
            name.0.clone()
        } else {
            imap_proto::utf7::decode(&name.0)
                .map_err(|_| ImapError::no(Code::Cannot, "mailbox name is not valid modified UTF-7"))?
        };
        Ok(normalize_inbox(&decoded))
    }

    /// Internal name → wire name.
    pub fn wire_name(&self, name: &str) -> String {
        if self.utf8_names() {
            name.to_string()
        } else {
            imap_proto::utf7::encode(name)
        }
    }

    /// Looks up an existing mailbox by its wire name.
    pub async fn find_mailbox(&self, name: &MailboxName) -> Result<::store::MailboxInfo> {
        let internal = self.mailbox_name(name)?;
        self.account()?
            .mailbox(&internal)
            .await?
            .ok_or_else(|| ImapError::no(Code::Nonexistent, format!("no such mailbox: {}", name.0)))
    }

    /// The SEARCHRES-saved set (`$`) or the set itself.
    pub fn resolve_saved(&mut self, set: &SequenceSet, uid: bool) -> Result<SequenceSet> {
        match set {
            SequenceSet::Saved => {
                let view = self.view()?;
                let nums: Vec<u32> =
                    if uid { view.saved.clone() } else { view.saved.iter().filter_map(|u| view.seq_of(*u)).collect() };
                // An empty saved result matches nothing (RFC 5182 §2.1).
                Ok(SequenceSet::from_numbers(nums).unwrap_or(SequenceSet::Ranges(Vec::new())))
            }
            other => Ok(other.clone()),
        }
    }

    /// Turns CONDSTORE on; the first time, with a mailbox selected, reports its
    /// HIGHESTMODSEQ (RFC 7162 §3.1).
    pub async fn enable_condstore(&mut self) {
        if self.enabled.condstore {
            return;
        }
        self.enabled.condstore = true;
        if let State::Selected { view, .. } = &self.state {
            let modseq = view.modseq;
            self.untagged_ok(Code::HighestModSeq(modseq), "CONDSTORE enabled");
        }
    }

    /// RFC 8437 §3 UNAUTHENTICATE: back to Not Authenticated, with every
    /// piece of connection state reset except the TLS (and COMPRESS) layers;
    /// never NO. The selected mailbox is left without expunging.
    fn cmd_unauthenticate(&mut self) -> Result<Done> {
        self.state = State::NotAuthenticated;
        self.feed = None;
        self.notify = None;
        self.account_slot = None;
        self.enabled = Enabled::default();
        self.auth_failures = 0;
        Ok(Done::ok("UNAUTHENTICATE completed, not authenticated now"))
    }

    /// RFC 4978 COMPRESS DEFLATE: refused when already active.
    fn cmd_compress(&mut self, algorithm: &str) -> Result<Done> {
        if matches!(self.conn.io.get_ref(), Stream::Deflate(_)) {
            return Err(ImapError::bad("COMPRESS is already active"));
        }
        if algorithm != "DEFLATE" {
            return Err(ImapError::bad(format!("unknown compression algorithm {algorithm}")));
        }
        Ok(Done { code: None, text: "DEFLATE active".into(), after: After::Compress })
    }

    /// Puts the deflate layer under the framing; bytes already buffered are
    /// compressed data and go to the inflater first.
    fn start_compress(&mut self) {
        let buffered = self.conn.io.buffer().to_vec();
        self.conn.io.consume_buffered(buffered.len());
        let inner = std::mem::replace(self.conn.io.get_mut(), Stream::Upgrading);
        *self.conn.io.get_mut() = Stream::Deflate(Box::new(crate::compress::Deflate::new(inner, buffered)));
    }

    async fn start_tls(&mut self) -> std::io::Result<()> {
        // Any bytes the client sent after STARTTLS were sent in the clear:
        // discard them rather than treat them as protected (RFC 9051 §6.2.1,
        // the command-injection issue of RFC 3207 §6).
        let buffered = self.conn.io.buffer().len();
        self.conn.io.consume_buffered(buffered);
        let stream = std::mem::replace(self.conn.io.get_mut(), Stream::Upgrading);
        let Stream::Plain(tcp) = stream else {
            return Err(std::io::ErrorKind::InvalidInput.into());
        };
        let acceptor = tokio_rustls::TlsAcceptor::from(self.shared.tls.clone());
        let tls = acceptor.accept(tcp).await?;
        *self.conn.io.get_mut() = Stream::Tls(Box::new(tls));
        self.tls = true;
        Ok(())
    }
}

/// RFC 7162 §3.1: the commands that make a client "CONDSTORE-aware".
fn is_condstore_enabling(cmd: &CommandBody) -> bool {
    use imap_proto::{FetchAttr, StatusItem};
    match cmd {
        CommandBody::Select { params, .. } => params.condstore,
        CommandBody::Status { items, .. } => items.contains(&StatusItem::HighestModSeq),
        CommandBody::Fetch { items, changed_since, .. } => {
            changed_since.is_some() || items.contains(&FetchAttr::ModSeq)
        }
        CommandBody::Search { criteria, .. } => search::mentions_modseq(criteria),
        CommandBody::Sort { search, .. } => search::mentions_modseq(search),
        CommandBody::Store { unchanged_since, .. } => unchanged_since.is_some(),
        _ => false,
    }
}

/// Whether untagged EXPUNGE may be sent while answering this command
/// (RFC 9051 §7.5.1: not during FETCH, STORE, SEARCH; the UID forms may).
fn allows_expunge(name: &str) -> bool {
    !matches!(name, "FETCH" | "STORE" | "SEARCH" | "SORT" | "THREAD")
}

/// `INBOX` in any case is INBOX (RFC 9051 §5.1); so is `inbox/…` as a parent.
pub fn normalize_inbox(name: &str) -> String {
    if name.eq_ignore_ascii_case("INBOX") {
        return "INBOX".into();
    }
    match name.get(..6) {
        Some(head) if head.eq_ignore_ascii_case("INBOX/") => format!("INBOX/{}", &name[6..]),
        _ => name.to_string(),
    }
}

trait ConsumeBuffered {
    fn consume_buffered(&mut self, n: usize);
}

impl ConsumeBuffered for tokio::io::BufReader<Stream> {
    fn consume_buffered(&mut self, n: usize) {
        use tokio::io::AsyncBufRead;
        std::pin::Pin::new(self).consume(n);
    }
}
