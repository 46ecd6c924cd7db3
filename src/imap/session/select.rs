//! SELECT and EXAMINE (one command with a read-only switch), and leaving the Selected state.

use imap_proto::{Code, Data, FetchValue, Flag, MailboxName, Response, SelectParams, SeqNum, SequenceSet, StatusKind};

use super::{Done, Session, State};
use crate::imap::convert::flags_to_wire;
use crate::imap::error::{ImapError, Result};
use crate::imap::selected::{ranges_to_set, vanished_since, View};

/// The flags clients may set; `\*`: any keyword may be created.
pub fn permanent_flags() -> Vec<Flag> {
    let mut f = system_flags();
    f.push(Flag::Extension("*".into()));
    f
}

fn system_flags() -> Vec<Flag> {
    vec![Flag::Answered, Flag::Flagged, Flag::Deleted, Flag::Seen, Flag::Draft]
}

/// The `FLAGS` and `PERMANENTFLAGS` lists of a mailbox whose messages use
/// `keywords` (RFC 9051 §7.3.5, §7.1).
pub(super) fn flags_and_permanent(keywords: &[String]) -> (Vec<Flag>, Vec<Flag>) {
    let mut flags = system_flags();
    flags.extend(keywords.iter().cloned().map(Flag::Keyword));
    let mut perm = permanent_flags();
    perm.extend(keywords.iter().cloned().map(Flag::Keyword));
    (flags, perm)
}

impl Session {
    /// RFC 9051 §6.3.2 SELECT and §6.3.3 EXAMINE:
    /// `select = "SELECT" SP mailbox [select-params]`. A failed SELECT leaves
    /// no mailbox selected; leaving a selected mailbox sends `OK [CLOSED]`.
    /// RFC 7162 §3.1.2.1: `OK [HIGHESTMODSEQ]` once CONDSTORE is on; §3.2.5:
    /// `(QRESYNC (uidvalidity modseq [known-uids]))` adds `VANISHED (EARLIER)`
    /// and the FETCH responses of messages changed since that MODSEQ.
    pub(super) async fn cmd_select(
        &mut self,
        name: &MailboxName,
        read_only: bool,
        params: SelectParams,
    ) -> Result<Done> {
        if params.qresync.is_some() && !self.enabled.qresync {
            // RFC 7162 §3.2.5: BAD unless QRESYNC was enabled.
            return Err(ImapError::bad("QRESYNC parameter requires ENABLE QRESYNC"));
        }
        self.deselect(true);
        let account = self.account()?;
        // The mailbox, its UIDs, keywords and first unseen as of one MODSEQ,
        // read in one transaction (the UIDs taken from the store's snapshot
        // cache when still current).
        let internal = self.mailbox_name(name)?;
        let opened = account
            .open_mailbox(&internal)
            .await?
            .ok_or_else(|| ImapError::no(Code::Nonexistent, format!("no such mailbox: {}", name.0)))?;
        let (mailbox, snap) = (opened.mailbox, opened.snapshot);
        let mut view = View::new(mailbox.clone(), read_only, snap.modseq, snap.uids.clone());
        let uid_next = snap.uid_next.max(view.largest_uid() + 1);

        view.keywords = snap.keywords.clone();
        let (flags, perm) = flags_and_permanent(&view.keywords);

        self.data(Data::Flags(flags));
        self.data(Data::Exists(view.exists()));
        if !self.enabled.imap4rev2 {
            // RFC 3501 §2.3.2: a read-write IMAP4rev1 session takes the
            // messages no session has seen as its \Recent ones (IMAP4rev2
            // removed \Recent; EXAMINE leaves them to the next SELECT).
            if opened.unclaimed_recent {
                if let Some(r) = account.recent(mailbox.id, !read_only).await? {
                    view.recent.push((*r.start(), *r.end()));
                }
            }
            self.data(Data::Recent(view.recent_count()));
            if let Some(seq) = snap.first_unseen.and_then(|uid| view.seq_of(uid)) {
                self.untagged_ok(Code::Unseen(seq), "first unseen message");
            }
        }
        self.untagged_ok(Code::UidValidity(mailbox.uid_validity), "UIDs valid");
        self.untagged_ok(Code::UidNext(uid_next), "predicted next UID");
        let perm = if read_only { Vec::new() } else { perm };
        self.untagged_ok(Code::PermanentFlags(perm), "flags permitted");
        // RFC 8474 §4.2
        self.untagged_ok(Code::MailboxId(mailbox.object_id.clone()), "mailbox object id");
        let children = if opened.has_children { "\\HasChildren" } else { "\\HasNoChildren" };
        let attrs = std::iter::once(children.to_string()).chain(mailbox.special_use.clone()).collect();
        let wire = self.wire_name(&mailbox.name);
        self.data(Data::List { attributes: attrs, delimiter: Some('/'), name: wire, child_info: None });
        if self.enabled.condstore {
            self.untagged_ok(Code::HighestModSeq(snap.modseq), "highest MODSEQ");
        }
        if let Some(q) = params.qresync.filter(|q| q.uid_validity == mailbox.uid_validity) {
            let known = q.known_uids.unwrap_or(SequenceSet::Ranges(vec![(SeqNum::Value(1), SeqNum::Largest)]));
            let largest = view.largest_uid();
            let gone = vanished_since(&account, mailbox.id, q.modseq, &known, largest).await?;
            if let Some(uids) = ranges_to_set(gone) {
                self.data(Data::Vanished { earlier: true, uids });
            }
            let changed = account.changes_since(mailbox.id, q.modseq).await?.changed;
            for s in changed {
                let Some(seq) = view.seq_of(s.uid) else { continue };
                view.set_flags(s.uid, s.modseq);
                self.data(Data::Fetch {
                    seq,
                    items: vec![
                        FetchValue::Uid(s.uid),
                        FetchValue::Flags(flags_to_wire(&s.flags)),
                        FetchValue::ModSeq(s.modseq),
                    ],
                });
            }
        }

        let (account, user) = match std::mem::replace(&mut self.state, State::Logout) {
            State::Authenticated { account, user } => (account, user),
            other => {
                self.state = other;
                return Err(ImapError::Internal("SELECT outside the authenticated state".into()));
            }
        };
        self.state = State::Selected { account, user, view };
        let code = if read_only { Code::ReadOnly } else { Code::ReadWrite };
        Ok(Done::with_code(code, if read_only { "EXAMINE completed" } else { "SELECT completed" }))
    }

    /// Leaves the Selected state; with `announce`, says `OK [CLOSED]`.
    pub(super) fn deselect(&mut self, announce: bool) {
        if let State::Selected { .. } = self.state {
            let State::Selected { account, user, .. } = std::mem::replace(&mut self.state, State::Logout) else {
                return;
            };
            self.state = State::Authenticated { account, user };
            if announce {
                self.untagged_ok(Code::Closed, "previous mailbox is now closed");
            }
        }
    }

    pub(super) fn untagged_ok(&mut self, code: Code, text: &str) {
        self.write(&Response::Status { tag: None, kind: StatusKind::Ok, code: Some(code), text: text.into() });
    }
}
