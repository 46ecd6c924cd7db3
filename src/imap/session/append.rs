//! APPEND (with MULTIAPPEND, CATENATE and APPENDLIMIT); the message building
//! that REPLACE shares.

use imap_proto::{AppendMessage, CatPart, Code, Literal, MailboxName, SequenceSet};
use store::{Account, MailboxInfo, NewMessage};

use super::{normalize_inbox, Done, Session, State};
use crate::imap::convert::{datetime_to_unix, flags_from_wire};
use crate::imap::error::{ImapError, Result};
use crate::imap::{fetch as content, imapurl};

/// One piece of a message being built: a literal as received, or bytes cut
/// from a stored message (CATENATE URL).
enum Piece {
    Literal { data: Literal, binary: bool },
    Bytes(Vec<u8>),
}

impl Piece {
    fn len(&self) -> u64 {
        match self {
            Piece::Literal { data, .. } => data.len(),
            Piece::Bytes(b) => b.len() as u64,
        }
    }
}

impl Session {
    /// RFC 7889 APPENDLIMIT: the largest message APPEND (and REPLACE)
    /// accepts, the same for every mailbox. It is `limits.max_literal_size`,
    /// so a message that passes the connection's literal limit passes this one.
    pub fn append_limit(&self) -> u64 {
        self.shared.config.limits.max_literal_size
    }

    /// RFC 9051 §6.3.12 APPEND: `append = "APPEND" SP mailbox [SP flag-list] [SP date-time] SP literal`;
    /// RFC 3502 MULTIAPPEND (all messages or none); RFC 4315 §3 `[APPENDUID]`;
    /// RFC 4469 §3 CATENATE (`NO [BADURL url]`, `NO [TOOBIG]`); RFC 7889 §4
    /// (a message over APPENDLIMIT gets `NO [TOOBIG]`).
    /// Each message is written to a blob file and fsynced, then all rows are
    /// committed in one transaction, and only then is OK sent (DESIGN.md §2
    /// invariant 3). A missing mailbox gives `NO [TRYCREATE]`.
    pub(super) async fn cmd_append(&mut self, name: &MailboxName, messages: Vec<AppendMessage>) -> Result<Done> {
        let account = self.account()?;
        let mailbox = self.append_target(&account, name).await?;
        let mut new = Vec::with_capacity(messages.len());
        for m in messages {
            new.push(self.new_message(&account, m).await?);
        }
        // RFC 9208 §4.3: over quota → NO [OVERQUOTA]; MULTIAPPEND counts all
        // messages together (all or none).
        let limits = self.quota_limits(&account).await?;
        let (uid_validity, uids, usage) = account.append_within(mailbox.id, new, limits).await?;
        self.quota_after_write(&account, limits, usage).await;
        let uids =
            SequenceSet::from_numbers(uids).ok_or_else(|| ImapError::Internal("append returned no UID".into()))?;
        Ok(Done::with_code(Code::AppendUid { uid_validity, uids }, "APPEND completed"))
    }

    /// The mailbox an APPEND or REPLACE writes to; `NO [TRYCREATE]` if it does
    /// not exist (RFC 9051 §6.3.12).
    pub(super) async fn append_target(&self, account: &Account, name: &MailboxName) -> Result<MailboxInfo> {
        let internal = self.mailbox_name(name)?;
        account
            .mailbox(&internal)
            .await?
            .ok_or_else(|| ImapError::no(Code::TryCreate, format!("no such mailbox: {}", name.0)))
    }

    /// Builds one APPEND/REPLACE message: joins its CATENATE parts (or takes
    /// its literal), checks it against APPENDLIMIT, writes the blob and
    /// computes the metadata (ENVELOPE, BODYSTRUCTURE, PREVIEW …).
    pub(super) async fn new_message(&mut self, account: &Account, m: AppendMessage) -> Result<NewMessage> {
        if m.utf8 && !self.enabled.utf8_accept {
            // RFC 6855 §4: only after ENABLE UTF8=ACCEPT.
            return Err(ImapError::bad("UTF8 APPEND requires ENABLE UTF8=ACCEPT"));
        }
        // RFC 4469 §4.2, RFC 7889 §4: TOOBIG, checked as the parts come in
        // so that URLs never pile up more than one message over the limit.
        let limit = self.append_limit();
        let too_big = || ImapError::no(Code::TooBig, format!("message is larger than APPENDLIMIT ({limit} bytes)"));
        let mut total = 0u64;
        // Bytes of stored messages read for URLs: bounded like the literals
        // of one command (connection.rs), so many URLs to big messages cannot
        // make one APPEND read without end.
        let mut read = 0u64;
        let mut pieces = Vec::new();
        let parts = match m.catenate {
            None => vec![CatPart::Text { data: m.data, binary: m.binary }],
            Some(parts) => parts,
        };
        for part in parts {
            let piece = match part {
                CatPart::Text { data, binary } => Piece::Literal { data, binary },
                CatPart::Url(url) => Piece::Bytes(self.resolve_url(account, &url, &mut read).await?),
            };
            total = total.saturating_add(piece.len());
            if total > limit {
                return Err(too_big());
            }
            pieces.push(piece);
        }
        if total == 0 {
            return Err(ImapError::no(Code::Cannot, "empty message"));
        }
        let blobs = self.shared.store.blobs().clone();
        let (blob, size, meta) = tokio::task::spawn_blocking(move || -> Result<_> {
            let mut bytes = Vec::with_capacity(total as usize);
            for piece in pieces {
                match piece {
                    Piece::Bytes(b) => bytes.extend_from_slice(&b),
                    Piece::Literal { data, binary } => {
                        let start = bytes.len();
                        match data {
                            Literal::Memory(v) => bytes.extend_from_slice(&v),
                            Literal::File { path, .. } => bytes.extend_from_slice(&std::fs::read(path)?),
                        }
                        // RFC 3516 §4.4: NUL only through a literal8.
                        if !binary && bytes[start..].contains(&0) {
                            return Err(ImapError::no(Code::Cannot, "message contains NUL; use a literal8 (~{N})"));
                        }
                    }
                }
            }
            let meta = content::compute_meta(&bytes);
            let id = blobs.write(&bytes)?;
            Ok((id, bytes.len() as u64, meta))
        })
        .await
        .map_err(|e| ImapError::Internal(e.to_string()))??;
        let (internal_date, internal_date_zone) = match &m.date {
            Some(dt) => datetime_to_unix(dt),
            None => (chrono::Utc::now().timestamp(), 0),
        };
        Ok(NewMessage {
            blob,
            size,
            prefix: Vec::new(),
            flags: flags_from_wire(&m.flags),
            internal_date,
            internal_date_zone,
            meta,
        })
    }

    /// RFC 4469 §3: the octets a CATENATE URL names, "as if the literal
    /// returned in a FETCH BODY response" (without setting `\Seen`). Anything
    /// that does not resolve is `NO [BADURL url]` (§4.1). The messages read
    /// for one APPEND message may add up to 4 × APPENDLIMIT (`NO [LIMIT]`).
    async fn resolve_url(&self, account: &Account, url: &str, read: &mut u64) -> Result<Vec<u8>> {
        let bad = |why: &str| ImapError::no(Code::Other("BADURL".into(), Some(url.to_string())), why);
        let (user, selected) = match &self.state {
            State::Authenticated { user, .. } => (user.as_str(), None),
            State::Selected { user, view, .. } => (user.as_str(), Some(&view.mailbox)),
            _ => return Err(ImapError::bad("not authenticated")),
        };
        let u = imapurl::parse(url, user).ok_or_else(|| bad("CATENATE: not a message URL of this account"))?;
        let mailbox = match (&u.mailbox, selected) {
            (Some(name), _) => account.mailbox(&normalize_inbox(name)).await?,
            (None, Some(mb)) => Some(mb.clone()),
            (None, None) => return Err(bad("CATENATE: a relative URL needs a selected mailbox")),
        }
        .ok_or_else(|| bad("CATENATE: no such mailbox"))?;
        if u.uid_validity.is_some_and(|v| v != mailbox.uid_validity) {
            return Err(bad("CATENATE: UIDVALIDITY does not match"));
        }
        let rec =
            account.records(mailbox.id, vec![u.uid]).await?.pop().ok_or_else(|| bad("CATENATE: no such message"))?;
        *read = read.saturating_add(rec.size);
        if *read > self.append_limit().saturating_mul(4) {
            return Err(ImapError::no(Code::Limit, "CATENATE: the URLs name too much message data"));
        }
        let raw = self.read_message(&rec).await?;
        let data = match &u.section {
            None => raw,
            Some(s) => content::section(&raw, s).ok_or_else(|| bad("CATENATE: no such body part"))?,
        };
        Ok(match u.partial {
            None => data,
            Some((offset, len)) => content::partial(&data, offset, len.unwrap_or(u32::MAX)),
        })
    }
}
