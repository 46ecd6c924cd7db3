//! editheader (RFC 5293): addheader and deleteheader on the top-level header.

use super::{Frame, Host, Run};
use crate::actions::HeaderEdit;
use crate::ast::{Index, Matcher, Str};
use crate::error::{Pos, RuntimeError};
use crate::message::HeaderField;

/// Fields a script may not change (RFC 5293 §6: Received, and we also
/// protect Auto-Submitted since vacation loop prevention relies on it).
fn protected(name: &str) -> bool {
    name.eq_ignore_ascii_case("received") || name.eq_ignore_ascii_case("auto-submitted")
}

fn b64(input: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Encodes a value for a header: RFC 2047 when not ASCII; CR/LF removed.
pub fn encode_value(v: &str) -> String {
    let v: String = v.chars().filter(|c| *c != '\r' && *c != '\n').collect();
    if v.is_ascii() {
        v
    } else {
        format!("=?utf-8?B?{}?=", b64(v.as_bytes()))
    }
}

impl<H: Host> Run<'_, H> {
    fn edit_limit(&self, pos: Pos) -> Result<(), RuntimeError> {
        if self.edits.len() >= self.limits().max_header_edits {
            return Err(RuntimeError::Limit {
                pos,
                message: format!("more than {} header edits", self.limits().max_header_edits),
            });
        }
        Ok(())
    }

    pub(crate) fn add_header(&mut self, pos: Pos, name: String, value: String, last: bool) -> Result<(), RuntimeError> {
        if name.is_empty() || !name.bytes().all(|b| (33..=126).contains(&b) && b != b':') {
            return Err(RuntimeError::Script {
                pos,
                message: format!("addheader: \"{name}\" is not a valid header field name"),
            });
        }
        if protected(&name) {
            return Ok(());
        }
        self.edit_limit(pos)?;
        let value = encode_value(&value);
        let field = HeaderField { name: name.clone(), raw: value.clone() };
        if last {
            self.headers.push(field);
        } else {
            self.headers.insert(0, field);
        }
        self.edits.push(HeaderEdit::Add { name, value, last });
        Ok(())
    }

    pub(crate) fn delete_header(
        &mut self,
        frame: &mut Frame,
        pos: Pos,
        name: &str,
        index: Option<Index>,
        m: Option<&Matcher>,
        values: &[Str],
    ) -> Result<(), RuntimeError> {
        if protected(name) {
            return Ok(());
        }
        let positions: Vec<usize> = self
            .headers
            .iter()
            .enumerate()
            .filter(|(_, h)| h.name.eq_ignore_ascii_case(name))
            .map(|(i, _)| i)
            .collect();
        let selected: Vec<usize> = match index {
            None => positions.clone(),
            Some(ix) => {
                let n = ix.n as usize;
                let pick = if ix.last {
                    positions.len().checked_sub(n).and_then(|i| positions.get(i))
                } else {
                    n.checked_sub(1).and_then(|i| positions.get(i))
                };
                pick.copied().into_iter().collect()
            }
        };
        let mut doomed = Vec::new();
        for i in selected {
            let Some(h) = self.headers.get(i) else { continue };
            let hit = match m {
                None => true,
                Some(m) => {
                    let keys: Vec<String> = values.iter().map(|k| self.expand(frame, k)).collect();
                    let v = h.decoded();
                    self.match_values(frame, pos, m, &[v], &keys)?
                }
            };
            if hit {
                doomed.push(i);
            }
        }
        for i in doomed.into_iter().rev() {
            self.edit_limit(pos)?;
            let occurrence = positions.iter().position(|p| *p == i).map(|p| p + 1).unwrap_or(1);
            self.headers.remove(i);
            self.edits.push(HeaderEdit::Delete { name: name.to_string(), occurrence });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn encodes() {
        assert_eq!(super::encode_value("plain"), "plain");
        assert_eq!(super::encode_value("café"), "=?utf-8?B?Y2Fmw6k=?=");
        assert_eq!(super::b64(b"ab"), "YWI=");
    }
}
