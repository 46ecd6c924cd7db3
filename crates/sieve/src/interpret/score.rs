//! spamtest / virustest (RFC 5235): how the host's scanner verdict, read from
//! a header field the scanner added, becomes the test's normalized result.
//!
//! The host configures where the verdict is ([`ScoreHeader`]); the
//! interpreter reads that field from the message as it is at the time of the
//! test (after editheader changes) — no I/O.

use crate::limits::Limits;

/// How a scanner verdict maps onto the test's range.
#[derive(Debug, Clone, PartialEq)]
pub enum Scale {
    /// The value is a number (the first one in the extracted text): `min` or
    /// less means "tested, clean", `max` or more "certainly spam/virus", in
    /// between scales linearly (SpamAssassin's `X-Spam-Score: 7.3`).
    Range { min: f64, max: f64 },
    /// The value is one of these words (compared case-insensitively), from
    /// "clean" to "certainly spam/virus", spread evenly over the range
    /// (ClamAV's `X-Virus-Status: Clean` / `Infected`). A value that is none
    /// of them counts as not tested.
    Levels(Vec<String>),
}

/// Where spamtest or virustest reads its verdict.
#[derive(Debug, Clone)]
pub struct ScoreHeader {
    /// The header field (first occurrence), e.g. `X-Spam-Score`.
    pub header: String,
    /// When set, the verdict is the first capture group (or, without groups,
    /// the whole match) of this pattern in the field's value; a value the
    /// pattern does not match counts as not tested.
    pub pattern: Option<regex::Regex>,
    pub scale: Scale,
}

impl ScoreHeader {
    /// Parses `"Header-Name"` or `"Header-Name: regex"` (the form of
    /// Pigeonhole's `sieve_spamtest_status_header`), e.g.
    /// `X-Spam-Status: score=(-?[0-9]+(?:\.[0-9]+)?)`.
    pub fn parse(spec: &str, scale: Scale) -> Result<ScoreHeader, String> {
        let (name, pattern) = match spec.split_once(':') {
            Some((n, p)) => (n.trim(), Some(p.trim())),
            None => (spec.trim(), None),
        };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
            return Err(format!("\"{name}\" is not a header field name"));
        }
        let pattern = match pattern.filter(|p| !p.is_empty()) {
            Some(p) => Some(crate::validate::compile_regex(p, true, &Limits::default())?),
            None => None,
        };
        match &scale {
            Scale::Range { min, max } if !(min.is_finite() && max.is_finite() && min < max) => {
                return Err(format!("the score range {min}..{max} is empty"));
            }
            Scale::Levels(l) if l.len() < 2 => return Err("at least two levels are needed".into()),
            _ => {}
        }
        Ok(ScoreHeader { header: name.to_string(), pattern, scale })
    }

    /// The verdict as a fraction of the range (0.0 clean … 1.0 certain), or
    /// `None` when the message was not tested (no field, no match, no number).
    pub fn fraction(&self, value: &str) -> Option<f64> {
        let text = match &self.pattern {
            None => value,
            Some(re) => {
                let c = re.captures(value)?;
                c.get(1).or_else(|| c.get(0))?.as_str()
            }
        };
        match &self.scale {
            Scale::Range { min, max } => {
                let v = first_number(text)?;
                Some(((v - min) / (max - min)).clamp(0.0, 1.0))
            }
            Scale::Levels(levels) => {
                let t = text.trim();
                let i = levels.iter().position(|l| !l.is_empty() && l.eq_ignore_ascii_case(t))?;
                Some(i as f64 / (levels.len() - 1) as f64)
            }
        }
    }
}

/// The first decimal number in `s` (`-2.5` in `score=-2.5 required=5`).
fn first_number(s: &str) -> Option<f64> {
    let bytes = s.as_bytes();
    let start = bytes.iter().position(|b| b.is_ascii_digit())?;
    let neg = start > 0 && bytes[start - 1] == b'-';
    let end = bytes[start..]
        .iter()
        .enumerate()
        .position(|(i, b)| !(b.is_ascii_digit() || (*b == b'.' && i > 0)))
        .map_or(s.len(), |p| start + p);
    let v: f64 = s[start..end].trim_end_matches('.').parse().ok()?;
    Some(if neg { -v } else { v })
}

/// The normalized result string (RFC 5235 §3.2.1, §3.2.2, §3.3): `None`
/// when not tested; otherwise `1 + round(f × (top − 1))` where `top` is 10
/// (spamtest) or 5 (virustest), or the percentage for `:percent`.
pub(crate) fn normalized(fraction: f64, top: u32, percent: bool) -> String {
    if percent {
        format!("{}", (fraction * 100.0).round() as u32)
    } else {
        format!("{}", 1 + (fraction * f64::from(top - 1)).round() as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(first_number("7.3"), Some(7.3));
        assert_eq!(first_number("Yes, score=-2.5 required=5.0"), Some(-2.5));
        assert_eq!(first_number("score 12."), Some(12.0));
        assert_eq!(first_number("none"), None);
    }

    #[test]
    fn spec_forms() {
        let r = Scale::Range { min: 0.0, max: 10.0 };
        let h = ScoreHeader::parse("X-Spam-Score", r.clone()).unwrap();
        assert_eq!(h.header, "X-Spam-Score");
        assert_eq!(h.fraction("7.5"), Some(0.75));
        assert_eq!(h.fraction("25"), Some(1.0));
        assert_eq!(h.fraction("-3"), Some(0.0));
        let h = ScoreHeader::parse("X-Spam-Status: score=(-?[0-9.]+)", r.clone()).unwrap();
        assert_eq!(h.header, "X-Spam-Status");
        assert_eq!(h.fraction("Yes, score=7.3 required=5.0 tests=X"), Some(0.73));
        assert_eq!(h.fraction("No, tests=none"), None);
        assert!(ScoreHeader::parse("X-Spam: (", r.clone()).is_err());
        assert!(ScoreHeader::parse(": x", r).is_err());
        assert!(ScoreHeader::parse("X", Scale::Range { min: 1.0, max: 1.0 }).is_err());
        let levels = Scale::Levels(["clean", "", "", "", "infected"].map(String::from).to_vec());
        let h = ScoreHeader::parse("X-Virus-Status: ^(\\w+)", levels).unwrap();
        assert_eq!(h.fraction("Infected (Eicar-Test-Signature)"), Some(1.0));
        assert_eq!(h.fraction("CLEAN"), Some(0.0));
        assert_eq!(h.fraction("unknown"), None);
        assert_eq!(normalized(1.0, 5, false), "5");
        assert_eq!(normalized(0.0, 10, false), "1");
        assert_eq!(normalized(0.73, 10, true), "73");
    }
}
