//! imap4flags (RFC 5232): setflag/addflag/removeflag and the flag variables.

use super::{Frame, Host, Run};
use crate::ast::FlagOp;

/// Splits flag strings on spaces and removes duplicates (case-insensitive),
/// keeping the first spelling.
pub fn normalize(list: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in list {
        for f in s.split_whitespace() {
            if !out.iter().any(|o| o.eq_ignore_ascii_case(f)) {
                out.push(f.to_string());
            }
        }
    }
    out
}

pub fn apply(current: &[String], op: FlagOp, flags: &[String]) -> Vec<String> {
    let flags = normalize(flags);
    match op {
        FlagOp::Set => flags,
        FlagOp::Add => {
            let mut v = current.to_vec();
            v.extend(flags);
            normalize(&v)
        }
        FlagOp::Remove => {
            current.iter().filter(|c| !flags.iter().any(|f| f.eq_ignore_ascii_case(c))).cloned().collect()
        }
    }
}

impl<H: Host> Run<'_, H> {
    pub(crate) fn flag_command(&mut self, frame: &mut Frame, op: FlagOp, var: Option<&str>, flags: &[String]) {
        match var {
            None => self.flags = apply(&self.flags, op, flags),
            Some(v) => {
                let cur: Vec<String> = normalize(&[self.get_var(frame, v)]);
                let new = apply(&cur, op, flags).join(" ");
                // set_var only fails on the variable-count limit; flags
                // variables are rare, ignore that failure rather than abort.
                let _ = self.set_var(frame, crate::error::Pos::default(), v, new);
            }
        }
    }

    /// Flags for hasflag: from the named variables, or the internal variable.
    pub(crate) fn flag_values(&self, frame: &Frame, vars: &[String]) -> Vec<String> {
        if vars.is_empty() {
            self.flags.clone()
        } else {
            let all: Vec<String> = vars.iter().map(|v| self.get_var(frame, &v.to_ascii_lowercase())).collect();
            normalize(&all)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_ops() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let f = apply(&[], FlagOp::Set, &s(&["\\Seen \\Flagged", "\\seen"]));
        assert_eq!(f, s(&["\\Seen", "\\Flagged"]));
        let f = apply(&f, FlagOp::Add, &s(&["$Junk"]));
        assert_eq!(f.len(), 3);
        let f = apply(&f, FlagOp::Remove, &s(&["\\SEEN"]));
        assert_eq!(f, s(&["\\Flagged", "$Junk"]));
    }
}
