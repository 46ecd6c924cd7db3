//! NOTIFY (RFC 5465): the client names the mailboxes and events it wants to
//! hear about, and hears about them at any time, not only during a command.

use std::collections::{BTreeSet, HashMap};

use imap_proto::{Code, Data, FetchAttr, MailboxName, NotifyEvent, NotifyFilter, NotifySet, SequenceSet, StatusItem};
use store::{Change, MailboxId, MailboxInfo, MailboxStatus};

use super::{Done, Session, State};
use crate::imap::error::{ImapError, Result};

/// The events this server can report (RFC 5465 §3.1: a NO [BADEVENT] lists them).
const SUPPORTED: &str =
    "(MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange MailboxMetadataChange ServerMetadataChange)";

/// What the client asked for with NOTIFY SET.
pub struct NotifyState {
    /// Message events for the selected mailbox (`SELECTED` / `SELECTED-DELAYED`);
    /// `None` when not asked for.
    selected: Option<SelectedEvents>,
    /// Event groups for other mailboxes.
    groups: Vec<Group>,
    /// ServerMetadataChange (RFC 5465 §5.7), a user event in any group.
    server_metadata: bool,
    /// Mailboxes and subscriptions as last told, to turn `Change::MailboxList`
    /// into MailboxName / SubscriptionChange LIST responses.
    mailboxes: Vec<MailboxInfo>,
    subscriptions: BTreeSet<String>,
    /// The STATUS values last told per mailbox, so only real changes are sent.
    told: HashMap<MailboxId, MailboxStatus>,
}

struct SelectedEvents {
    /// SELECTED-DELAYED: expunges wait for a command that allows them (§6.1.2).
    delayed: bool,
    /// Attributes to FETCH for new messages (§5.2).
    new_atts: Vec<FetchAttr>,
}

struct Group {
    filter: Filter,
    /// MessageNew + MessageExpunge (always together, §5).
    messages: bool,
    flags: bool,
    mailbox_name: bool,
    subscription: bool,
    /// MailboxMetadataChange (RFC 5465 §5.6).
    metadata: bool,
}

/// `filter-mailboxes-other` with names already decoded (RFC 5465 §6.2–6.6).
enum Filter {
    /// `personal` and `inboxes` (every mailbox may receive mail here, §6.3).
    All,
    Subscribed,
    Subtree(Vec<String>),
    Mailboxes(Vec<String>),
}

impl Filter {
    fn matches(&self, name: &str, subscriptions: &BTreeSet<String>) -> bool {
        match self {
            Filter::All => true,
            Filter::Subscribed => subscriptions.contains(name),
            Filter::Subtree(roots) => {
                roots.iter().any(|r| name == r || name.strip_prefix(r.as_str()).is_some_and(|t| t.starts_with('/')))
            }
            Filter::Mailboxes(names) => names.iter().any(|n| n == name),
        }
    }
}

impl Session {
    /// RFC 5465 §3.1 NOTIFY: `notify = "NOTIFY" SP (notify-set / notify-none)`.
    /// MailboxMetadataChange and ServerMetadataChange (§5.6, §5.7) report
    /// METADATA changes; AnnotationChange (ANNOTATE) and unknown events get
    /// `NO [BADEVENT (…)]`; MessageNew without
    /// MessageExpunge (or the reverse), FlagChange without both, non-message
    /// events or two selected filters get BAD (§5, §6.1). A successful SET
    /// is an implicit NOOP, and with STATUS sends the watched mailboxes' STATUS.
    pub(super) async fn cmd_notify(&mut self, set: Option<NotifySet>) -> Result<Done> {
        let Some(set) = set else {
            self.notify = None;
            return Ok(Done::ok("NOTIFY NONE completed"));
        };
        let mut selected = None;
        let mut seen_selected = false;
        let mut groups = Vec::new();
        let mut server_metadata = false;
        for g in set.groups {
            let mut new_atts = None;
            let (mut expunge, mut flags, mut mailbox_name, mut subscription) = (false, false, false, false);
            let mut metadata = false;
            for e in g.events {
                match e {
                    NotifyEvent::MessageNew(atts) => new_atts = Some(atts),
                    NotifyEvent::MessageExpunge => expunge = true,
                    NotifyEvent::FlagChange => flags = true,
                    NotifyEvent::MailboxName => mailbox_name = true,
                    NotifyEvent::SubscriptionChange => subscription = true,
                    NotifyEvent::MailboxMetadataChange => metadata = true,
                    NotifyEvent::ServerMetadataChange => server_metadata = true,
                    // ANNOTATE (RFC 5257) is not implemented.
                    NotifyEvent::AnnotationChange | NotifyEvent::Other(_) => {
                        return Err(ImapError::no(
                            Code::Other("BADEVENT".into(), Some(SUPPORTED.into())),
                            "unsupported event",
                        ))
                    }
                }
            }
            if new_atts.is_some() != expunge {
                return Err(ImapError::bad("MessageNew and MessageExpunge must be given together (RFC 5465 §5)"));
            }
            if flags && !expunge {
                return Err(ImapError::bad("FlagChange needs MessageNew and MessageExpunge (RFC 5465 §5)"));
            }
            let is_selected = matches!(g.filter, NotifyFilter::Selected | NotifyFilter::SelectedDelayed);
            if is_selected {
                if std::mem::replace(&mut seen_selected, true) {
                    return Err(ImapError::bad("only one SELECTED or SELECTED-DELAYED group (RFC 5465 §6.1)"));
                }
                if mailbox_name || subscription || metadata {
                    return Err(ImapError::bad("only message events apply to the selected mailbox (RFC 5465 §6.1)"));
                }
                if let Some(atts) = new_atts {
                    selected = Some(SelectedEvents {
                        delayed: g.filter == NotifyFilter::SelectedDelayed,
                        new_atts: atts.into_iter().map(peek).collect(),
                    });
                }
                continue;
            }
            if new_atts.as_ref().is_some_and(|a| !a.is_empty()) {
                return Err(ImapError::bad("fetch attributes only apply to the selected mailbox (RFC 5465 §8)"));
            }
            let filter = match g.filter {
                NotifyFilter::Personal | NotifyFilter::Inboxes => Filter::All,
                NotifyFilter::Subscribed => Filter::Subscribed,
                NotifyFilter::Subtree(names) => Filter::Subtree(self.decode_names(&names)?),
                NotifyFilter::Mailboxes(names) => Filter::Mailboxes(self.decode_names(&names)?),
                NotifyFilter::Selected | NotifyFilter::SelectedDelayed => unreachable_filter()?,
            };
            groups.push(Group { filter, messages: expunge, flags, mailbox_name, subscription, metadata });
        }
        let account = self.account()?;
        let mailboxes = account.mailboxes().await?;
        let subscriptions: BTreeSet<String> = account.subscriptions().await?.into_iter().collect();
        let mut state =
            NotifyState { selected, groups, server_metadata, mailboxes, subscriptions, told: HashMap::new() };
        // Remember (and with STATUS, tell) the current counts of every watched mailbox.
        let selected_id = self.selected_mailbox();
        for mb in state.mailboxes.clone() {
            if Some(mb.id) == selected_id || !state.watches_messages(&mb.name) {
                continue;
            }
            let status = account.status(mb.id).await?;
            if set.status {
                // §3.1: the server supports CONDSTORE, so the STATUS
                // indicator's answers MUST carry HIGHESTMODSEQ.
                let items = status_items(&state, &mb.name, true);
                let wire = self.wire_name(&mb.name);
                self.data(Data::Status {
                    mailbox: wire,
                    items: super::status::status_values(&status, &items, self.append_limit()),
                });
            }
            state.told.insert(mb.id, status);
        }
        self.notify = Some(state);
        Ok(Done::ok("NOTIFY completed"))
    }

    fn decode_names(&self, names: &[MailboxName]) -> Result<Vec<String>> {
        names.iter().map(|n| self.mailbox_name(n)).collect()
    }

    fn selected_mailbox(&self) -> Option<MailboxId> {
        match &self.state {
            State::Selected { view, .. } => Some(view.mailbox.id),
            _ => None,
        }
    }

    /// Tells the client what one change on the feed means for it, under its
    /// NOTIFY settings (RFC 5465 §5).
    pub async fn notify_change(&mut self, change: Change) -> Result<()> {
        let Some(state) = &self.notify else { return Ok(()) };
        match change {
            Change::Mailbox { mailbox, .. } if Some(mailbox) == self.selected_mailbox() => {
                let Some(sel) = &state.selected else { return Ok(()) };
                let (delayed, atts) = (sel.delayed, sel.new_atts.clone());
                let before = self.view()?.largest_uid();
                self.sync_selected_now(!delayed).await?;
                let new: Vec<u32> = self.view()?.uids.iter().copied().filter(|&u| u > before).collect();
                if let (false, Some(set)) = (atts.is_empty(), SequenceSet::from_numbers(new)) {
                    // §5.2: EXISTS, then FETCH with what the client asked for.
                    self.cmd_fetch(true, &set, atts, None, false).await?;
                }
            }
            Change::Mailbox { mailbox, .. } => self.notify_status(mailbox).await?,
            Change::MailboxList => self.notify_mailbox_list().await?,
            Change::Metadata { origin, .. } if origin == self.origin => {}
            Change::Metadata { mailbox, entries, .. } => self.notify_metadata(mailbox, entries).await?,
        }
        Ok(())
    }

    /// §5.6 MailboxMetadataChange and §5.7 ServerMetadataChange: the names
    /// (never the values) of the entries another session set or removed, as
    /// an unsolicited METADATA response (RFC 5464 §4.4.2).
    async fn notify_metadata(&mut self, mailbox: Option<MailboxId>, entries: Vec<String>) -> Result<()> {
        let Some(state) = &self.notify else { return Ok(()) };
        let name = match mailbox {
            None if state.server_metadata => String::new(),
            None => return Ok(()),
            Some(id) => {
                let name = match state.mailboxes.iter().find(|m| m.id == id) {
                    Some(m) => m.name.clone(),
                    None => match self.account()?.mailbox_by_id(id).await? {
                        Some(m) => m.name,
                        None => return Ok(()),
                    },
                };
                let Some(state) = &self.notify else { return Ok(()) };
                if !state.groups.iter().any(|g| g.metadata && g.filter.matches(&name, &state.subscriptions)) {
                    return Ok(());
                }
                self.wire_name(&name)
            }
        };
        self.data(Data::MetadataChanged { mailbox: name, entries });
        Ok(())
    }

    /// §5.1–5.3 for a mailbox other than the selected one: a STATUS response
    /// when a watched value changed.
    async fn notify_status(&mut self, mailbox: MailboxId) -> Result<()> {
        let account = self.account()?;
        let condstore = self.enabled.condstore;
        let Some(state) = &mut self.notify else { return Ok(()) };
        let name = match state.mailboxes.iter().find(|m| m.id == mailbox) {
            Some(m) => m.name.clone(),
            None => match account.mailbox_by_id(mailbox).await? {
                Some(m) => m.name,
                None => return Ok(()),
            },
        };
        if !state.watches_messages(&name) {
            return Ok(());
        }
        let status = account.status(mailbox).await?;
        let old = state.told.insert(mailbox, status.clone()).unwrap_or_default();
        let counts_changed = old.messages != status.messages || old.uid_next != status.uid_next;
        let flags_changed = old.unseen != status.unseen || old.highest_modseq != status.highest_modseq;
        let watch_flags = state.watches_flags(&name);
        if !(counts_changed || (watch_flags && flags_changed)) {
            return Ok(());
        }
        let items = status_items(state, &name, condstore);
        let wire = self.wire_name(&name);
        self.data(Data::Status {
            mailbox: wire,
            items: super::status::status_values(&status, &items, self.append_limit()),
        });
        Ok(())
    }

    /// §5.4 MailboxName and §5.5 SubscriptionChange: LIST responses for what
    /// was created, deleted, renamed, subscribed or unsubscribed.
    async fn notify_mailbox_list(&mut self) -> Result<()> {
        let account = self.account()?;
        let mailboxes = account.mailboxes().await?;
        let subscriptions: BTreeSet<String> = account.subscriptions().await?.into_iter().collect();
        let Some(state) = &mut self.notify else { return Ok(()) };
        let old_mailboxes = std::mem::replace(&mut state.mailboxes, mailboxes.clone());
        let old_subs = std::mem::replace(&mut state.subscriptions, subscriptions.clone());
        let wants_name = |n: &str| state.groups.iter().any(|g| g.mailbox_name && g.filter.matches(n, &subscriptions));
        let wants_sub = |n: &str| state.groups.iter().any(|g| g.subscription && g.filter.matches(n, &subscriptions));
        let names: BTreeSet<&str> = mailboxes.iter().map(|m| m.name.as_str()).collect();
        let attrs = |name: &str, subscribed: bool| {
            let prefix = format!("{name}/");
            let mut a =
                vec![if names.iter().any(|n| n.starts_with(&prefix)) { "\\HasChildren" } else { "\\HasNoChildren" }
                    .to_string()];
            if subscribed {
                a.push("\\Subscribed".into());
            }
            a
        };
        let mut out = Vec::new();
        let renamed_from: BTreeSet<&str> = old_mailboxes
            .iter()
            .filter(|o| mailboxes.iter().any(|m| m.id == o.id && m.name != o.name))
            .map(|o| o.name.as_str())
            .collect();
        for m in &mailboxes {
            match old_mailboxes.iter().find(|o| o.id == m.id) {
                None if wants_name(&m.name) => {
                    out.push((m.name.clone(), None, attrs(&m.name, subscriptions.contains(&m.name))))
                }
                Some(o) if o.name != m.name && (wants_name(&m.name) || wants_name(&o.name)) => {
                    // Children move with their parent: one event for the parent (§5.4).
                    let parent_renamed = o.name.rsplit_once('/').is_some_and(|(p, _)| renamed_from.contains(p));
                    if !parent_renamed {
                        out.push((
                            m.name.clone(),
                            Some(o.name.clone()),
                            attrs(&m.name, subscriptions.contains(&m.name)),
                        ));
                    }
                }
                _ => {}
            }
        }
        for o in &old_mailboxes {
            if !mailboxes.iter().any(|m| m.id == o.id) && wants_name(&o.name) {
                out.push((o.name.clone(), None, vec!["\\NonExistent".into()]));
            }
        }
        for name in subscriptions.symmetric_difference(&old_subs) {
            if wants_sub(name) {
                let mut a =
                    if names.contains(name.as_str()) { attrs(name, false) } else { vec!["\\NonExistent".into()] };
                if subscriptions.contains(name) {
                    a.push("\\Subscribed".into());
                }
                out.push((name.clone(), None, a));
            }
        }
        for (name, old, attributes) in out {
            let wire = self.wire_name(&name);
            match old {
                Some(old) => {
                    let old_name = self.wire_name(&old);
                    self.data(Data::ListRenamed { attributes, delimiter: Some('/'), name: wire, old_name })
                }
                None => self.data(Data::List { attributes, delimiter: Some('/'), name: wire, child_info: None }),
            }
        }
        Ok(())
    }

    /// After this session's own command: take in its mailbox-list changes
    /// without reporting them (RFC 5465 §5: events caused by this client
    /// SHOULD NOT be reported).
    pub(super) async fn notify_absorb_own_changes(&mut self) -> Result<()> {
        if self.notify.is_none() {
            return Ok(());
        }
        let account = self.account()?;
        let mailboxes = account.mailboxes().await?;
        let subscriptions = account.subscriptions().await?.into_iter().collect();
        if let Some(state) = &mut self.notify {
            state.mailboxes = mailboxes;
            state.subscriptions = subscriptions;
        }
        Ok(())
    }
}

impl NotifyState {
    fn watches_messages(&self, name: &str) -> bool {
        self.groups.iter().any(|g| g.messages && g.filter.matches(name, &self.subscriptions))
    }

    fn watches_flags(&self, name: &str) -> bool {
        self.groups.iter().any(|g| g.flags && g.filter.matches(name, &self.subscriptions))
    }
}

/// The STATUS items for a watched mailbox (§3.1, §5.1–5.3): MESSAGES, UIDNEXT
/// and UIDVALIDITY for message events; UNSEEN for FlagChange; HIGHESTMODSEQ
/// once CONDSTORE is on (and always for NOTIFY SET STATUS, §3.1).
fn status_items(state: &NotifyState, name: &str, condstore: bool) -> Vec<StatusItem> {
    let mut items = vec![StatusItem::Messages, StatusItem::UidNext, StatusItem::UidValidity];
    if state.watches_flags(name) {
        items.push(StatusItem::Unseen);
    }
    if condstore {
        items.push(StatusItem::HighestModSeq);
    }
    items
}

/// Notification FETCHes never set `\Seen` (RFC 5465 §5.2 advises against it).
fn peek(att: FetchAttr) -> FetchAttr {
    match att {
        FetchAttr::BodySection { section, partial, .. } => FetchAttr::BodySection { peek: true, section, partial },
        FetchAttr::Binary { part, partial, .. } => FetchAttr::Binary { peek: true, part, partial },
        other => other,
    }
}

fn unreachable_filter() -> Result<Filter> {
    Err(ImapError::Internal("selected filter handled above".into()))
}
