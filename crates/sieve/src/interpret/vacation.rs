//! vacation (RFC 5230) and vacation-seconds (RFC 6131), with the RFC 3834 /
//! RFC 5230 §4.5 rules about whom not to answer.

use super::{address, Frame, Host, Run};
use crate::actions::Vacation;
use crate::ast::{Command, CommandKind};
use crate::error::RuntimeError;

fn fnv(s: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

impl<H: Host> Run<'_, H> {
    fn header_raw(&self, name: &str) -> Vec<String> {
        self.headers.iter().filter(|h| h.name.eq_ignore_ascii_case(name)).map(|h| h.raw.clone()).collect()
    }

    /// Why no reply should be sent, if so.
    fn vacation_suppressed_reason(&self, own: &[String]) -> Option<String> {
        let sender = self.env.from.trim().trim_start_matches('<').trim_end_matches('>').to_ascii_lowercase();
        if sender.is_empty() {
            return Some("the message has no return path".into());
        }
        let local = sender.split('@').next().unwrap_or("");
        if local == "mailer-daemon"
            || local == "listserv"
            || local == "majordomo"
            || local.starts_with("owner-")
            || local.ends_with("-request")
            || local.starts_with("bounce")
            || local.contains("noreply")
            || local.contains("no-reply")
        {
            return Some(format!("the sender <{sender}> is an automated address"));
        }
        if own.iter().any(|o| o.eq_ignore_ascii_case(&sender)) {
            return Some("the sender is the user".into());
        }
        for v in self.header_raw("auto-submitted") {
            if !v.trim().to_ascii_lowercase().starts_with("no") {
                return Some(format!("the message is auto-submitted ({v})"));
            }
        }
        for v in self.header_raw("precedence") {
            let v = v.trim().to_ascii_lowercase();
            if v == "bulk" || v == "list" || v == "junk" {
                return Some(format!("the message has Precedence: {v}"));
            }
        }
        for h in ["list-id", "list-unsubscribe", "list-post", "list-help", "x-auto-response-suppress"] {
            if !self.header_raw(h).is_empty() {
                return Some(format!("the message is list mail ({h})"));
            }
        }
        if !own.is_empty() {
            let mut addressed = false;
            for h in ["to", "cc", "bcc", "resent-to", "resent-cc", "resent-bcc"] {
                for v in self.header_raw(h) {
                    for a in address::parse_addresses(&v) {
                        if own.iter().any(|o| o.eq_ignore_ascii_case(&a)) {
                            addressed = true;
                        }
                    }
                }
            }
            if !addressed {
                return Some("none of the user's addresses is in To/Cc/Bcc".into());
            }
        }
        None
    }

    pub(crate) fn vacation(&mut self, frame: &mut Frame, c: &Command) -> Result<(), RuntimeError> {
        let CommandKind::Vacation { reason, subject, from, addresses, period, mime, handle, flags } = &c.kind else {
            return Ok(());
        };
        self.actions.vacation_ran(c.pos)?;
        let reason = self.expand(frame, reason);
        let subject_s = subject.as_ref().map(|s| self.expand(frame, s));
        let from_s = from.as_ref().map(|s| self.expand(frame, s));
        let addrs: Vec<String> = addresses.iter().map(|a| self.expand(frame, a)).collect();
        let handle_s = match handle {
            Some(h) => self.expand(frame, h),
            None => fnv(&format!(
                "{reason}\0{}\0{}\0{}\0{mime}",
                subject_s.as_deref().unwrap_or(""),
                from_s.as_deref().unwrap_or(""),
                addrs.join(",")
            )),
        };
        let mut own: Vec<String> = Vec::new();
        for a in addrs.iter().chain(self.host.user_addresses().iter()) {
            own.extend(address::parse_addresses(a));
        }
        if !self.env.to.is_empty() {
            own.extend(address::parse_addresses(&self.env.to));
        }
        if let Some(why) = self.vacation_suppressed_reason(&own) {
            self.vacation_suppressed = Some(why);
            return Ok(());
        }
        let l = self.limits();
        let mut p = period.unwrap_or(l.vacation_default_period);
        if p > 0 {
            p = p.clamp(l.vacation_min_period, l.vacation_max_period.max(l.vacation_min_period));
        }
        let subject = match subject_s {
            Some(s) => s,
            None => {
                let orig = self
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("subject"))
                    .map(|h| h.decoded())
                    .unwrap_or_default();
                if orig.is_empty() {
                    "Auto: (no subject)".into()
                } else if orig.to_ascii_lowercase().starts_with("auto:") {
                    orig
                } else {
                    format!("Auto: {orig}")
                }
            }
        };
        let flags = match flags {
            Some(f) => {
                let v: Vec<String> = f.iter().map(|s| self.expand(frame, s)).collect();
                super::flags::normalize(&v)
            }
            None => Vec::new(),
        };
        let to = address::parse_addresses(&self.env.from).pop().unwrap_or_else(|| self.env.from.clone());
        let v = Vacation {
            to,
            from: from_s,
            subject,
            reason,
            mime: *mime,
            period: p,
            handle: handle_s,
            addresses: addrs,
            in_reply_to: self.header_raw("message-id").into_iter().next(),
            flags,
        };
        self.actions.vacation(c.pos, v)
    }
}
