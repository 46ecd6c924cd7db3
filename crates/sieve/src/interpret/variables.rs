//! Variables (RFC 5229): expansion, `set` modifiers, match variables, and
//! the `global` namespace of include (RFC 6609).

use super::{Frame, Host, Run};
use crate::ast::{SetModifier, Str, StrPart};
use crate::error::{Pos, RuntimeError};

fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut cut = max;
        while cut > 0 && !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s
}

/// Applies `set` modifiers (already sorted by precedence).
pub fn apply_modifiers(value: &str, mods: &[SetModifier]) -> String {
    let mut v = value.to_string();
    for m in mods {
        v = match m {
            SetModifier::Lower => v.to_lowercase(),
            SetModifier::Upper => v.to_uppercase(),
            SetModifier::LowerFirst => {
                let mut c = v.chars();
                match c.next() {
                    Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
                    None => v,
                }
            }
            SetModifier::UpperFirst => {
                let mut c = v.chars();
                match c.next() {
                    Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                    None => v,
                }
            }
            SetModifier::QuoteWildcard => super::matching::quote_wildcard(&v),
            SetModifier::QuoteRegex => regex::escape(&v),
            SetModifier::EncodeUrl => {
                let mut out = String::new();
                for b in v.bytes() {
                    if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                        out.push(b as char);
                    } else {
                        out.push_str(&format!("%{b:02X}"));
                    }
                }
                out
            }
            SetModifier::Length => v.chars().count().to_string(),
        };
    }
    v
}

impl<H: Host> Run<'_, H> {
    pub(crate) fn get_var(&self, frame: &Frame, name: &str) -> String {
        if let Some(g) = name.strip_prefix("global.") {
            return self.global_vars.get(g).cloned().unwrap_or_default();
        }
        if frame.globals.contains(name) {
            return self.global_vars.get(name).cloned().unwrap_or_default();
        }
        frame.vars.get(name).cloned().unwrap_or_default()
    }

    pub(crate) fn set_var(
        &mut self,
        frame: &mut Frame,
        pos: Pos,
        name: &str,
        value: String,
    ) -> Result<(), RuntimeError> {
        let value = truncate(value, self.limits().max_variable_len);
        let max = self.limits().max_variables;
        let (map, key) = if let Some(g) = name.strip_prefix("global.") {
            (&mut self.global_vars, g.to_string())
        } else if frame.globals.contains(name) {
            (&mut self.global_vars, name.to_string())
        } else {
            (&mut frame.vars, name.to_string())
        };
        if !map.contains_key(&key) && map.len() >= max {
            return Err(RuntimeError::Limit { pos, message: format!("more than {max} variables") });
        }
        map.insert(key, value);
        Ok(())
    }

    /// Expands `${…}` references in a string.
    pub(crate) fn expand(&self, frame: &Frame, s: &Str) -> String {
        let mut out = String::new();
        for p in &s.0 {
            match p {
                StrPart::Lit(l) => out.push_str(l),
                StrPart::Var(n) => out.push_str(&self.get_var(frame, n)),
                StrPart::Match(i) => {
                    if let Some(v) = frame.match_vars.get(*i) {
                        out.push_str(v);
                    }
                }
            }
            if out.len() > self.limits().max_variable_len {
                return truncate(out, self.limits().max_variable_len);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SetModifier::*;

    #[test]
    fn modifiers() {
        // RFC 5229 §4.1 examples
        assert_eq!(apply_modifiers("juMBlEd lETteRS", &[Lower]), "jumbled letters");
        assert_eq!(apply_modifiers("juMBlEd lETteRS", &[Upper, UpperFirst]), "JUMBLED LETTERS");
        assert_eq!(apply_modifiers("juMBlEd lETteRS", &[Lower, UpperFirst]), "Jumbled letters");
        assert_eq!(apply_modifiers("juMBlEd lETteRS", &[Length]), "15");
        assert_eq!(apply_modifiers("Ya*?\\", &[QuoteWildcard]), "Ya\\*\\?\\\\");
        assert_eq!(apply_modifiers("BAD", &[LowerFirst]), "bAD");
    }
}
