//! Actions a script run produces, the conflict rules between them
//! (RFC 5228 §2.10, RFC 5429 §2.4, RFC 5230 §4.7) and their stable text form.

use std::fmt;

use crate::error::{Pos, RuntimeError};
use crate::limits::Limits;

/// An auto-reply the host should send (RFC 5230 / RFC 6131). The host must
/// still apply its own "answered recently" tracking with `handle`, `to` and
/// `period`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vacation {
    /// Recipient of the reply (the envelope sender of the message).
    pub to: String,
    /// `:from`, if given.
    pub from: Option<String>,
    /// Subject of the reply (`:subject`, or "Auto: " + the original subject).
    pub subject: String,
    /// The reply body (a MIME entity when `mime` is set).
    pub reason: String,
    pub mime: bool,
    /// Minimum time between two replies to the same sender, in seconds.
    pub period: u64,
    /// Identifies this vacation for the "already answered" tracking.
    pub handle: String,
    /// `:addresses`: the user's other addresses.
    pub addresses: Vec<String>,
    /// The Message-ID of the message answered (for In-Reply-To/References).
    pub in_reply_to: Option<String>,
    /// imap4flags `:flags` for the (optional) stored copy of the reply.
    pub flags: Vec<String>,
}

/// One action for the host to carry out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Store in INBOX.
    Keep { flags: Vec<String> },
    /// Store in `mailbox`; create it first only when `create` is set.
    FileInto { mailbox: String, flags: Vec<String>, copy: bool, create: bool, special_use: Option<String> },
    /// Forward to `address`.
    Redirect { address: String, copy: bool },
    /// Explicitly throw the message away.
    Discard,
    /// Refuse the message (`extended`: `ereject`, i.e. at SMTP/LMTP level if possible).
    Reject { reason: String, extended: bool },
    /// Send an auto-reply.
    Vacation(Vacation),
}

/// A string in Sieve's quoted form, as the text form of actions uses it:
/// `"` and `\` escaped, CR and LF written `\r` and `\n` (one action, one line).
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn flags(f: &[String]) -> String {
    if f.is_empty() {
        String::new()
    } else {
        format!(" :flags {}", quote(&f.join(" ")))
    }
}

/// One line per action, e.g. `fileinto "Lists" :flags "\\Seen"`, `keep`,
/// `redirect "a@b"`, `discard`, `reject "reason"`,
/// `vacation to="a@b" subject="…" period=604800 handle="…"`.
impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Keep { flags: fl } => write!(f, "keep{}", flags(fl)),
            Action::FileInto { mailbox, flags: fl, copy, create, special_use } => {
                write!(f, "fileinto {}{}", quote(mailbox), flags(fl))?;
                if *copy {
                    write!(f, " :copy")?;
                }
                if *create {
                    write!(f, " :create")?;
                }
                if let Some(s) = special_use {
                    write!(f, " :specialuse {}", quote(s))?;
                }
                Ok(())
            }
            Action::Redirect { address, copy } => {
                write!(f, "redirect {}{}", quote(address), if *copy { " :copy" } else { "" })
            }
            Action::Discard => write!(f, "discard"),
            Action::Reject { reason, extended } => {
                write!(f, "{} {}", if *extended { "ereject" } else { "reject" }, quote(reason))
            }
            Action::Vacation(v) => {
                write!(
                    f,
                    "vacation to={} subject={} period={} handle={}",
                    quote(&v.to),
                    quote(&v.subject),
                    v.period,
                    quote(&v.handle)
                )?;
                if let Some(from) = &v.from {
                    write!(f, " from={}", quote(from))?;
                }
                if v.mime {
                    write!(f, " mime")?;
                }
                write!(f, " reason={}", quote(&v.reason))
            }
        }
    }
}

/// A header change made by `addheader`/`deleteheader` (RFC 5293), in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderEdit {
    Add {
        name: String,
        value: String,
        last: bool,
    },
    /// Remove the `occurrence`-th (1-based, from the top, at the time of the
    /// edit) field called `name`.
    Delete {
        name: String,
        occurrence: usize,
    },
}

/// The result of a successful run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outcome {
    /// The actions to carry out, in order. Includes the implicit keep when it
    /// applies (then `implicit_keep` is true).
    pub actions: Vec<Action>,
    /// Whether the last `Keep` in `actions` is the implicit keep.
    pub implicit_keep: bool,
    /// Header edits, in order.
    pub header_edits: Vec<HeaderEdit>,
    /// The rewritten header section (fields joined with CRLF, ending in CRLF,
    /// without the empty line) when `header_edits` is not empty; the host
    /// stores it followed by the original body.
    pub edited_header: Option<String>,
    /// When `vacation` ran but no reply is due (list mail, auto-reply, no
    /// return path, not addressed to the user …): why.
    pub vacation_suppressed: Option<String>,
    /// Interpreter steps used.
    pub steps: u64,
}

impl Outcome {
    /// The actions in the stable one-per-line text form.
    pub fn lines(&self) -> Vec<String> {
        self.actions.iter().map(|a| a.to_string()).collect()
    }
}

/// Collects actions and enforces the conflict rules and limits.
#[derive(Debug)]
pub(crate) struct ActionSet {
    pub actions: Vec<Action>,
    pub implicit_keep: bool,
    reject: bool,
    vacation: bool,
    redirects: usize,
    max_actions: usize,
    max_redirects: usize,
}

fn conflict(pos: Pos, msg: impl Into<String>) -> RuntimeError {
    RuntimeError::ActionConflict { pos, message: msg.into() }
}

impl ActionSet {
    pub fn new(limits: &Limits) -> Self {
        ActionSet {
            actions: Vec::new(),
            implicit_keep: true,
            reject: false,
            vacation: false,
            redirects: 0,
            max_actions: limits.max_actions,
            max_redirects: limits.max_redirects,
        }
    }

    fn push(&mut self, pos: Pos, a: Action) -> Result<(), RuntimeError> {
        if self.actions.len() >= self.max_actions {
            return Err(RuntimeError::Limit { pos, message: format!("more than {} actions", self.max_actions) });
        }
        self.actions.push(a);
        Ok(())
    }

    fn delivering(&self, pos: Pos, what: &str) -> Result<(), RuntimeError> {
        if self.reject {
            return Err(conflict(
                pos,
                format!(
                    "`{what}` cannot be combined with `reject`/`ereject`: a message is either refused or delivered"
                ),
            ));
        }
        Ok(())
    }

    pub fn keep(&mut self, pos: Pos, flags: Vec<String>) -> Result<(), RuntimeError> {
        self.delivering(pos, "keep")?;
        self.implicit_keep = false;
        for a in &mut self.actions {
            if let Action::Keep { flags: f } = a {
                // a second keep: same delivery, latest flags
                *f = flags;
                return Ok(());
            }
        }
        self.push(pos, Action::Keep { flags })
    }

    pub fn fileinto(
        &mut self,
        pos: Pos,
        mailbox: String,
        flags: Vec<String>,
        copy: bool,
        create: bool,
        special_use: Option<String>,
    ) -> Result<(), RuntimeError> {
        self.delivering(pos, "fileinto")?;
        if !copy {
            self.implicit_keep = false;
        }
        for a in &mut self.actions {
            if let Action::FileInto { mailbox: m, flags: f, create: c, .. } = a {
                if *m == mailbox {
                    *f = flags;
                    *c |= create;
                    return Ok(());
                }
            }
        }
        self.push(pos, Action::FileInto { mailbox, flags, copy, create, special_use })
    }

    pub fn redirect(&mut self, pos: Pos, address: String, copy: bool) -> Result<(), RuntimeError> {
        self.delivering(pos, "redirect")?;
        if !copy {
            self.implicit_keep = false;
        }
        let lc = address.to_ascii_lowercase();
        if self.actions.iter().any(|a| matches!(a, Action::Redirect { address: x, .. } if x.to_ascii_lowercase() == lc))
        {
            return Ok(());
        }
        if self.redirects >= self.max_redirects {
            return Err(RuntimeError::Limit { pos, message: format!("more than {} redirects", self.max_redirects) });
        }
        self.redirects += 1;
        self.push(pos, Action::Redirect { address, copy })
    }

    pub fn discard(&mut self, pos: Pos) -> Result<(), RuntimeError> {
        self.implicit_keep = false;
        if self.actions.contains(&Action::Discard) {
            return Ok(());
        }
        self.push(pos, Action::Discard)
    }

    pub fn reject(&mut self, pos: Pos, reason: String, extended: bool) -> Result<(), RuntimeError> {
        if self.reject {
            return Err(conflict(pos, "only one `reject`/`ereject` may be executed"));
        }
        if self.vacation {
            return Err(conflict(pos, "`reject` cannot be combined with `vacation`"));
        }
        if let Some(a) = self
            .actions
            .iter()
            .find(|a| matches!(a, Action::Keep { .. } | Action::FileInto { .. } | Action::Redirect { .. }))
        {
            let name = match a {
                Action::Keep { .. } => "keep",
                Action::FileInto { .. } => "fileinto",
                _ => "redirect",
            };
            return Err(conflict(
                pos,
                format!("`reject` cannot be combined with `{name}`: a message is either refused or delivered"),
            ));
        }
        self.reject = true;
        self.implicit_keep = false;
        self.push(pos, Action::Reject { reason, extended })
    }

    /// Records that vacation ran (once per script run, RFC 5230 §4.7).
    pub fn vacation_ran(&mut self, pos: Pos) -> Result<(), RuntimeError> {
        if self.vacation {
            return Err(conflict(pos, "`vacation` may be executed only once"));
        }
        if self.reject {
            return Err(conflict(pos, "`vacation` cannot be combined with `reject`"));
        }
        self.vacation = true;
        Ok(())
    }

    pub fn vacation(&mut self, pos: Pos, v: Vacation) -> Result<(), RuntimeError> {
        self.push(pos, Action::Vacation(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_forms() {
        assert_eq!(
            Action::FileInto {
                mailbox: "Lists".into(),
                flags: vec!["\\Seen".into()],
                copy: false,
                create: false,
                special_use: None
            }
            .to_string(),
            r#"fileinto "Lists" :flags "\\Seen""#
        );
        assert_eq!(Action::Keep { flags: vec![] }.to_string(), "keep");
        assert_eq!(Action::Redirect { address: "a@b".into(), copy: true }.to_string(), r#"redirect "a@b" :copy"#);
    }

    #[test]
    fn reject_conflicts() {
        let mut s = ActionSet::new(&Limits::default());
        s.keep(Pos::default(), vec![]).expect("keep");
        assert!(s.reject(Pos::default(), "no".into(), false).is_err());
        let mut s = ActionSet::new(&Limits::default());
        s.reject(Pos::default(), "no".into(), false).expect("reject");
        assert!(s.fileinto(Pos::default(), "x".into(), vec![], false, false, None).is_err());
        assert!(s.reject(Pos::default(), "again".into(), true).is_err());
        assert!(s.vacation_ran(Pos::default()).is_err());
        s.discard(Pos::default()).expect("discard is compatible");
    }

    #[test]
    fn redirect_limit_and_dedup() {
        let mut s = ActionSet::new(&Limits { max_redirects: 2, ..Limits::default() });
        s.redirect(Pos::default(), "a@x".into(), false).expect("1");
        s.redirect(Pos::default(), "A@x".into(), false).expect("dup");
        s.redirect(Pos::default(), "b@x".into(), false).expect("2");
        assert!(s.redirect(Pos::default(), "c@x".into(), false).is_err());
        assert_eq!(s.actions.len(), 2);
    }
}
