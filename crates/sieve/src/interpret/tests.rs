//! Evaluation of tests: core RFC 5228 tests and those of the extensions
//! (envelope, body, variables' string, imap4flags' hasflag, date,
//! mailbox, special-use, spamtest/virustest, environment, duplicate, ihave).

use super::{address, date, matching, Frame, Host, Run};
use crate::ast::*;
use crate::error::{Pos, RuntimeError};

/// Default and maximum duplicate tracking period (RFC 7352 §3.3 leaves it
/// to the implementation): 7 days default, 30 days maximum.
const DUPLICATE_DEFAULT: u64 = 7 * 86_400;
const DUPLICATE_MAX: u64 = 30 * 86_400;

fn select_index<T: Clone>(vals: Vec<T>, index: Option<Index>) -> Vec<T> {
    match index {
        None => vals,
        Some(ix) => {
            let n = usize::try_from(ix.n).unwrap_or(usize::MAX);
            let pick = if ix.last {
                vals.len().checked_sub(n).and_then(|i| vals.get(i))
            } else {
                n.checked_sub(1).and_then(|i| vals.get(i))
            };
            pick.cloned().into_iter().collect()
        }
    }
}

impl<H: Host> Run<'_, H> {
    /// Matches values against keys per the matcher; sets match variables on
    /// success with :matches / :regex.
    pub(crate) fn match_values(
        &mut self,
        frame: &mut Frame,
        pos: Pos,
        m: &Matcher,
        values: &[String],
        keys: &[String],
    ) -> Result<bool, RuntimeError> {
        if let MatchType::Count(op) = m.match_type {
            let n = values.len().to_string();
            return Ok(keys.iter().any(|k| matching::relop(op, matching::compare(m.comparator, &n, k))));
        }
        let runtime_res;
        let regexes: Option<&Vec<regex::Regex>> = if m.match_type == MatchType::Regex {
            match &m.regexes {
                Some(r) => Some(r),
                None => {
                    let mut v = Vec::new();
                    for k in keys {
                        v.push(
                            crate::validate::compile_regex(k, m.comparator == Comparator::AsciiCasemap, self.limits())
                                .map_err(|e| RuntimeError::Script { pos, message: e })?,
                        );
                    }
                    runtime_res = v;
                    Some(&runtime_res)
                }
            }
        } else {
            None
        };
        for v in values {
            self.step(pos)?;
            for (ki, k) in keys.iter().enumerate() {
                let re = regexes.and_then(|r| r.get(ki));
                match matching::match_one(m.comparator, m.match_type, v, k, re) {
                    matching::Hit::No => {}
                    matching::Hit::Yes => return Ok(true),
                    matching::Hit::Captures(c) => {
                        if frame.uses_variables {
                            let max = self.limits().max_variable_len;
                            frame.match_vars = c
                                .into_iter()
                                .map(|mut s| {
                                    if s.len() > max {
                                        let mut cut = max;
                                        while !s.is_char_boundary(cut) {
                                            cut -= 1;
                                        }
                                        s.truncate(cut);
                                    }
                                    s
                                })
                                .collect();
                        }
                        return Ok(true);
                    }
                }
            }
        }
        Ok(false)
    }

    fn keys(&self, frame: &Frame, m: &Matcher) -> Vec<String> {
        m.keys.iter().map(|k| self.expand(frame, k)).collect()
    }

    pub(crate) fn test(&mut self, frame: &mut Frame, t: &Test) -> Result<bool, RuntimeError> {
        self.step(t.pos)?;
        let pos = t.pos;
        Ok(match &t.kind {
            TestKind::True => true,
            TestKind::False => false,
            TestKind::Not(inner) => !self.test(frame, inner)?,
            TestKind::AllOf(list) => {
                for x in list {
                    if !self.test(frame, x)? {
                        return Ok(false);
                    }
                }
                true
            }
            TestKind::AnyOf(list) => {
                for x in list {
                    if self.test(frame, x)? {
                        return Ok(true);
                    }
                }
                false
            }
            TestKind::Ihave(b) => *b,
            TestKind::Size { over, limit } => {
                let size = self.msg.size() as u64;
                if *over {
                    size > *limit
                } else {
                    size < *limit
                }
            }
            TestKind::Exists { headers, mime } => {
                let names: Vec<String> = headers.iter().map(|h| self.expand(frame, h)).collect();
                self.header_fields(&names, mime).iter().all(|v| !v.is_empty())
            }
            TestKind::Header { m, index, mime, headers } => {
                let names: Vec<String> = headers.iter().map(|h| self.expand(frame, h)).collect();
                let mut values = Vec::new();
                for v in self.header_fields(&names, mime) {
                    values.extend(select_index(v, *index));
                }
                let keys = self.keys(frame, m);
                self.match_values(frame, pos, m, &values, &keys)?
            }
            TestKind::Address { m, part, index, mime, headers } => {
                let names: Vec<String> = headers.iter().map(|h| self.expand(frame, h)).collect();
                let sep = self.host.subaddress_separator().to_string();
                let mut values = Vec::new();
                for v in self.header_fields(&names, mime) {
                    for field in select_index(v, *index) {
                        for a in address::parse_addresses(&field) {
                            if let Some(p) = address::address_part(&a, *part, &sep) {
                                values.push(p);
                            }
                        }
                    }
                }
                let keys = self.keys(frame, m);
                self.match_values(frame, pos, m, &values, &keys)?
            }
            TestKind::Envelope { m, part, fields } => {
                let sep = self.host.subaddress_separator().to_string();
                let mut values = Vec::new();
                for f in fields {
                    let f = self.expand(frame, f).to_ascii_lowercase();
                    let raw = match f.as_str() {
                        "from" => Some(self.env.from.clone()),
                        "to" => Some(self.env.to.clone()),
                        "auth" => self.env.auth.clone(),
                        _ => None,
                    };
                    let Some(raw) = raw else { continue };
                    let bare = raw.trim().trim_start_matches('<').trim_end_matches('>').to_string();
                    if bare.is_empty() {
                        // null return path: every part is the empty string
                        if *part != AddrPart::Detail {
                            values.push(String::new());
                        }
                        continue;
                    }
                    if let Some(p) = address::address_part(&bare, *part, &sep) {
                        values.push(p);
                    }
                }
                let keys = self.keys(frame, m);
                self.match_values(frame, pos, m, &values, &keys)?
            }
            TestKind::Body { m, transform } => {
                let values = self.body_values(frame, transform);
                let keys = self.keys(frame, m);
                self.match_values(frame, pos, m, &values, &keys)?
            }
            TestKind::String { m, sources } => {
                let mut values: Vec<String> = sources.iter().map(|s| self.expand(frame, s)).collect();
                if matches!(m.match_type, MatchType::Count(_)) {
                    values.retain(|v| !v.is_empty());
                }
                let keys = self.keys(frame, m);
                self.match_values(frame, pos, m, &values, &keys)?
            }
            TestKind::HasFlag { m, vars } => {
                let vars: Vec<String> = vars.iter().map(|v| self.expand(frame, v)).collect();
                let values = self.flag_values(frame, &vars);
                let keys: Vec<String> = if matches!(m.match_type, MatchType::Count(_)) {
                    self.keys(frame, m)
                } else {
                    super::flags::normalize(&self.keys(frame, m))
                };
                self.match_values(frame, pos, m, &values, &keys)?
            }
            TestKind::Date { m, index, zone, header, part } => {
                let h = self.expand(frame, header);
                let part = self.expand(frame, part);
                let raw: Vec<String> =
                    self.headers.iter().filter(|f| f.name.eq_ignore_ascii_case(&h)).map(|f| f.raw.clone()).collect();
                let zone_min = self.zone(frame, zone, pos)?;
                let mut values = Vec::new();
                for v in select_index(raw, *index) {
                    let text = match v.rfind(';') {
                        Some(i) => v[i + 1..].to_string(),
                        None => v,
                    };
                    if let Some(d) = date::parse_rfc5322(&text) {
                        let d = match zone_min {
                            Some(z) => d.to_zone(z),
                            None => d,
                        };
                        if let Some(p) = d.part(&part) {
                            values.push(p);
                        }
                    }
                }
                let keys = self.keys(frame, m);
                self.match_values(frame, pos, m, &values, &keys)?
            }
            TestKind::CurrentDate { m, zone, part } => {
                let part = self.expand(frame, part);
                let z = self.zone(frame, zone, pos)?.unwrap_or(self.now.offset_minutes);
                let values: Vec<String> = self.now.to_zone(z).part(&part).into_iter().collect();
                let keys = self.keys(frame, m);
                self.match_values(frame, pos, m, &values, &keys)?
            }
            TestKind::MailboxExists(names) => {
                let names: Vec<String> = names.iter().map(|n| self.expand(frame, n)).collect();
                names.iter().all(|n| self.host.mailbox_exists(n))
            }
            TestKind::SpecialUseExists { mailbox, uses } => {
                let mb = mailbox.as_ref().map(|m| self.expand(frame, m));
                let uses: Vec<String> = uses.iter().map(|u| self.expand(frame, u)).collect();
                uses.iter().all(|u| self.host.special_use_exists(mb.as_deref(), u))
            }
            TestKind::SpamTest { m, percent } => {
                let values = self.score(self.host.spamtest(), 10, *percent, m);
                let keys = self.keys(frame, m);
                self.match_values(frame, pos, m, &values, &keys)?
            }
            TestKind::VirusTest { m } => {
                let values = self.score(self.host.virustest(), 5, false, m);
                let keys = self.keys(frame, m);
                self.match_values(frame, pos, m, &values, &keys)?
            }
            TestKind::Environment { m, name } => {
                let n = self.expand(frame, name).to_ascii_lowercase();
                let v = self.host.environment(&n).or_else(|| match n.as_str() {
                    "name" => Some("postfach".into()),
                    "version" => Some(env!("CARGO_PKG_VERSION").into()),
                    "phase" => Some("during".into()),
                    "location" => Some("MDA".into()),
                    _ => None,
                });
                match v {
                    Some(v) => {
                        let keys = self.keys(frame, m);
                        self.match_values(frame, pos, m, &[v], &keys)?
                    }
                    None => false,
                }
            }
            TestKind::Duplicate { handle, source, seconds, last } => {
                let id = match source {
                    DupSource::MessageId => self
                        .headers
                        .iter()
                        .find(|h| h.name.eq_ignore_ascii_case("message-id"))
                        .map(|h| h.raw.trim().to_string()),
                    DupSource::Header(h) => {
                        let h = self.expand(frame, h);
                        self.headers
                            .iter()
                            .find(|f| f.name.eq_ignore_ascii_case(&h))
                            .map(|f| f.decoded().trim().to_string())
                    }
                    DupSource::UniqueId(u) => Some(self.expand(frame, u)),
                };
                match id {
                    Some(id) if !id.is_empty() => {
                        let handle = handle.as_ref().map(|h| self.expand(frame, h)).unwrap_or_default();
                        let period = seconds.unwrap_or(DUPLICATE_DEFAULT).min(DUPLICATE_MAX);
                        self.host.duplicate(&handle, &id, period, *last)
                    }
                    _ => false,
                }
            }
        })
    }

    fn zone(&self, frame: &Frame, z: &Zone, pos: Pos) -> Result<Option<i32>, RuntimeError> {
        Ok(match z {
            Zone::Local => Some(self.now.offset_minutes),
            Zone::Original => None,
            Zone::Fixed(s) => {
                let v = self.expand(frame, s);
                Some(
                    date::parse_zone(&v)
                        .ok_or_else(|| RuntimeError::Script { pos, message: format!("invalid time zone \"{v}\"") })?,
                )
            }
        })
    }

    /// The normalized result of spamtest/virustest (RFC 5235 §3.1): "0"
    /// when the message was not tested — or, for `:count`, no value at all,
    /// so that `:count "eq" "0"` means "not tested" and "1" means "tested".
    fn score(&self, cfg: Option<super::ScoreHeader>, top: u32, percent: bool, m: &Matcher) -> Vec<String> {
        let fraction = cfg.and_then(|cfg| {
            let field = self.headers.iter().find(|h| h.name.eq_ignore_ascii_case(&cfg.header))?;
            cfg.fraction(&field.raw)
        });
        match (fraction, m.match_type) {
            (None, MatchType::Count(_)) => Vec::new(),
            (None, _) => vec!["0".into()],
            (Some(f), _) => vec![super::score::normalized(f, top, percent)],
        }
    }
}
