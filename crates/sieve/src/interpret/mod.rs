//! The interpreter: runs a compiled [`Script`] against a [`Message`] and
//! returns an [`Outcome`]. All outside knowledge comes from the [`Host`].

pub mod address;
pub mod date;
mod editheader;
mod flags;
pub mod matching;
mod mime;
pub mod score;
mod tests;
mod vacation;
mod variables;

use std::collections::{HashMap, HashSet};

use crate::actions::{ActionSet, HeaderEdit, Outcome};
use crate::ast::*;
use crate::error::{Pos, RuntimeError};
use crate::message::{Envelope, HeaderField, Message};
use crate::validate::{Compiler, Script};
pub use date::DateTime;

pub use score::{Scale, ScoreHeader};

/// What the interpreter asks of the host. Every method has a conservative
/// default, so a host implements only what it supports.
pub trait Host {
    /// Whether `mailbox` exists (mailboxexists, RFC 5490).
    fn mailbox_exists(&self, _mailbox: &str) -> bool {
        false
    }
    /// Whether a mailbox with `special_use` exists (or, with `mailbox`,
    /// whether that mailbox has it) (RFC 8579).
    fn special_use_exists(&self, _mailbox: Option<&str>, _special_use: &str) -> bool {
        false
    }
    /// The duplicate test (RFC 7352): returns whether `id` was seen under
    /// `handle` within `period` seconds. The host records `id` (and, with
    /// `last`, restarts its period), ideally only once the run succeeded.
    fn duplicate(&mut self, _handle: &str, _id: &str, _period: u64, _last: bool) -> bool {
        false
    }
    /// Loads the source of an included script (RFC 6609). `Ok(None)` when it
    /// does not exist.
    fn include(&mut self, _location: IncludeLocation, _name: &str) -> Result<Option<String>, String> {
        Ok(None)
    }
    /// An environment item (RFC 5183), e.g. "domain", "host", "phase".
    /// "name" and "version" default to this implementation.
    fn environment(&self, _name: &str) -> Option<String> {
        None
    }
    /// The current time and local zone (date/currentdate, RFC 5260).
    fn now(&self) -> DateTime {
        let secs =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
        DateTime::from_unix(secs, 0)
    }
    /// The subaddress separator (RFC 5233), e.g. "+".
    fn subaddress_separator(&self) -> &str {
        "+"
    }
    /// Where spamtest reads its score; `None`: every message counts as not
    /// tested (RFC 5235 §3.2.1 value "0").
    fn spamtest(&self) -> Option<ScoreHeader> {
        None
    }
    /// Where virustest reads its score.
    fn virustest(&self) -> Option<ScoreHeader> {
        None
    }
    /// The user's own addresses (vacation does not answer them and replies
    /// only to mail addressed to one of them or to the envelope recipient).
    fn user_addresses(&self) -> Vec<String> {
        Vec::new()
    }
}

/// A host with every default: no mailboxes, no includes, UTC clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoHost;
impl Host for NoHost {}

pub(crate) enum Flow {
    Next,
    Stop,
    Return,
    Break(Option<String>),
}

/// Per-script state (each include has its own local variables).
pub(crate) struct Frame {
    pub vars: HashMap<String, String>,
    pub globals: HashSet<String>,
    pub match_vars: Vec<String>,
    pub uses_variables: bool,
}

pub(crate) struct Run<'a, H: Host> {
    pub compiler: &'a Compiler,
    pub msg: &'a Message,
    pub env: &'a Envelope,
    pub host: &'a mut H,
    pub actions: ActionSet,
    pub steps: u64,
    pub global_vars: HashMap<String, String>,
    pub headers: Vec<HeaderField>,
    pub edits: Vec<HeaderEdit>,
    pub included: HashSet<(IncludeLocation, String)>,
    pub includes: usize,
    pub depth: usize,
    /// The implicit flag variable of imap4flags.
    pub flags: Vec<String>,
    /// Current MIME part inside foreverypart (index into msg.parts).
    pub part: Option<usize>,
    pub now: DateTime,
    pub vacation_suppressed: Option<String>,
}

/// Runs `script` for one delivery.
///
/// Errors are runtime errors: the host should keep the message in INBOX and
/// show the error to the user (RFC 5228 §2.10.6).
pub fn run<H: Host>(
    compiler: &Compiler,
    script: &Script,
    msg: &Message,
    env: &Envelope,
    host: &mut H,
) -> Result<Outcome, RuntimeError> {
    let now = host.now();
    let mut r = Run {
        compiler,
        msg,
        env,
        host,
        actions: ActionSet::new(&compiler.limits),
        steps: 0,
        global_vars: HashMap::new(),
        headers: msg.headers.clone(),
        edits: Vec::new(),
        included: HashSet::new(),
        includes: 0,
        depth: 0,
        flags: Vec::new(),
        part: None,
        now,
        vacation_suppressed: None,
    };
    let mut frame = Frame {
        vars: HashMap::new(),
        globals: HashSet::new(),
        match_vars: Vec::new(),
        uses_variables: script.requires("variables"),
    };
    r.block(&mut frame, &script.commands)?;
    let mut actions = r.actions;
    let mut implicit = false;
    if actions.implicit_keep {
        actions.keep(Pos::default(), r.flags.clone())?;
        implicit = true;
    }
    let edited_header = if r.edits.is_empty() {
        None
    } else {
        let mut s = String::new();
        for h in &r.headers {
            s.push_str(&h.name);
            s.push_str(": ");
            s.push_str(&h.raw);
            s.push_str("\r\n");
        }
        Some(s)
    };
    Ok(Outcome {
        actions: actions.actions,
        implicit_keep: implicit,
        header_edits: r.edits,
        edited_header,
        vacation_suppressed: r.vacation_suppressed,
        steps: r.steps,
    })
}

impl<H: Host> Run<'_, H> {
    pub(crate) fn limits(&self) -> &crate::limits::Limits {
        &self.compiler.limits
    }

    pub(crate) fn step(&mut self, pos: Pos) -> Result<(), RuntimeError> {
        self.steps += 1;
        if self.steps > self.limits().max_steps {
            return Err(RuntimeError::Limit {
                pos,
                message: format!("the script ran more than {} steps", self.limits().max_steps),
            });
        }
        Ok(())
    }

    pub(crate) fn block(&mut self, frame: &mut Frame, block: &[Command]) -> Result<Flow, RuntimeError> {
        for c in block {
            match self.command(frame, c)? {
                Flow::Next => {}
                other => return Ok(other),
            }
        }
        Ok(Flow::Next)
    }

    fn flag_list(&mut self, frame: &Frame, list: &Option<Vec<Str>>) -> Vec<String> {
        match list {
            Some(l) => {
                let v: Vec<String> = l.iter().map(|s| self.expand(frame, s)).collect();
                flags::normalize(&v)
            }
            None => self.flags.clone(),
        }
    }

    fn command(&mut self, frame: &mut Frame, c: &Command) -> Result<Flow, RuntimeError> {
        self.step(c.pos)?;
        let pos = c.pos;
        match &c.kind {
            CommandKind::If { branches, otherwise } => {
                for (t, b) in branches {
                    if self.test(frame, t)? {
                        return self.block(frame, b);
                    }
                }
                if let Some(b) = otherwise {
                    return self.block(frame, b);
                }
            }
            CommandKind::Stop => return Ok(Flow::Stop),
            CommandKind::Return => return Ok(Flow::Return),
            CommandKind::Nop => {}
            CommandKind::Keep { flags } => {
                let f = self.flag_list(frame, flags);
                self.actions.keep(pos, f)?;
            }
            CommandKind::Discard => self.actions.discard(pos)?,
            CommandKind::FileInto { mailbox, copy, create, flags, special_use } => {
                let mb = self.expand(frame, mailbox);
                if mb.is_empty() {
                    return Err(RuntimeError::Script { pos, message: "fileinto: the mailbox name is empty".into() });
                }
                let f = self.flag_list(frame, flags);
                let su = special_use.as_ref().map(|s| self.expand(frame, s));
                self.actions.fileinto(pos, mb, f, *copy, *create, su)?;
            }
            CommandKind::Redirect { address, copy } => {
                let a = self.expand(frame, address);
                if !address::valid_mailbox(&a) {
                    return Err(RuntimeError::Script {
                        pos,
                        message: format!("redirect: \"{a}\" is not a valid e-mail address"),
                    });
                }
                let bare = address::parse_addresses(&a).pop().unwrap_or(a);
                self.actions.redirect(pos, bare, *copy)?;
            }
            CommandKind::Reject { reason, extended } => {
                let r = self.expand(frame, reason);
                self.actions.reject(pos, r, *extended)?;
            }
            CommandKind::Vacation { .. } => self.vacation(frame, c)?,
            CommandKind::Flags { op, var, flags } => {
                let v: Vec<String> = flags.iter().map(|s| self.expand(frame, s)).collect();
                self.flag_command(frame, *op, var.as_deref(), &v);
            }
            CommandKind::Set { name, value, modifiers } => {
                let v = self.expand(frame, value);
                let v = variables::apply_modifiers(&v, modifiers);
                self.set_var(frame, pos, name, v)?;
            }
            CommandKind::AddHeader { last, name, value } => {
                let n = self.expand(frame, name);
                let v = self.expand(frame, value);
                self.add_header(pos, n, v, *last)?;
            }
            CommandKind::DeleteHeader { index, m, name, values } => {
                let n = self.expand(frame, name);
                self.delete_header(frame, pos, &n, *index, m.as_ref(), values)?;
            }
            CommandKind::Include { location, once, optional, name } => {
                let n = self.expand(frame, name);
                if let Flow::Stop = self.include(pos, *location, &n, *once, *optional)? {
                    return Ok(Flow::Stop);
                }
            }
            CommandKind::Global(names) => {
                for n in names {
                    frame.globals.insert(n.clone());
                }
            }
            CommandKind::ForEveryPart { name, body } => {
                return self.foreverypart(frame, name.as_deref(), body);
            }
            CommandKind::Break { name } => return Ok(Flow::Break(name.clone())),
            CommandKind::ExtractText { modifiers, first, var } => {
                let text = self.extract_text(*first);
                let v = variables::apply_modifiers(&text, modifiers);
                self.set_var(frame, pos, var, v)?;
            }
            CommandKind::Error(msg) => {
                let m = self.expand(frame, msg);
                return Err(RuntimeError::Script { pos, message: m });
            }
        }
        Ok(Flow::Next)
    }

    fn include(
        &mut self,
        pos: Pos,
        location: IncludeLocation,
        name: &str,
        once: bool,
        optional: bool,
    ) -> Result<Flow, RuntimeError> {
        let key = (location, name.to_string());
        if once && self.included.contains(&key) {
            return Ok(Flow::Next);
        }
        if self.depth >= self.limits().max_include_depth {
            return Err(RuntimeError::Limit {
                pos,
                message: format!(
                    "includes nested more than {} deep (is `{name}` including itself?)",
                    self.limits().max_include_depth
                ),
            });
        }
        if self.includes >= self.limits().max_includes {
            return Err(RuntimeError::Limit {
                pos,
                message: format!("more than {} includes", self.limits().max_includes),
            });
        }
        self.includes += 1;
        let src = match self.host.include(location, name) {
            Ok(Some(s)) => s,
            Ok(None) if optional => return Ok(Flow::Next),
            Ok(None) => {
                return Err(RuntimeError::Include { pos, name: name.into(), message: "script not found".into() })
            }
            Err(e) => return Err(RuntimeError::Include { pos, name: name.into(), message: e }),
        };
        let script = self.compiler.compile(&src).map_err(|e| RuntimeError::Include {
            pos,
            name: name.into(),
            message: e.to_string(),
        })?;
        self.included.insert(key);
        let mut frame = Frame {
            vars: HashMap::new(),
            globals: HashSet::new(),
            match_vars: Vec::new(),
            uses_variables: script.requires("variables"),
        };
        self.depth += 1;
        let r = self.block(&mut frame, &script.commands);
        self.depth -= 1;
        match r? {
            Flow::Stop => Ok(Flow::Stop),
            _ => Ok(Flow::Next),
        }
    }
}
