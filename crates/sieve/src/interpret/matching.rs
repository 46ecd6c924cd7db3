//! Comparators (RFC 4790: i;octet, i;ascii-casemap, i;ascii-numeric), match
//! types (:is :contains :matches, :regex) and relational tests (RFC 5231).

use std::cmp::Ordering;

use crate::ast::{Comparator, MatchType, RelOp};

fn fold(c: Comparator, s: &str) -> String {
    match c {
        Comparator::AsciiCasemap => s.to_ascii_lowercase(),
        _ => s.to_string(),
    }
}

/// The numeric value per i;ascii-numeric: the leading digits; `None` is
/// "positive infinity" (no leading digit).
fn numeric(s: &str) -> Option<u128> {
    let digits: String = s.chars().take_while(|c| c.is_ascii_digit()).collect();
    if digits.is_empty() {
        return None;
    }
    let trimmed = digits.trim_start_matches('0');
    if trimmed.len() > 38 {
        return Some(u128::MAX);
    }
    Some(trimmed.parse::<u128>().unwrap_or(0))
}

/// Orders two strings under a comparator.
pub fn compare(c: Comparator, a: &str, b: &str) -> Ordering {
    match c {
        Comparator::Octet => a.as_bytes().cmp(b.as_bytes()),
        Comparator::AsciiCasemap => a.to_ascii_lowercase().as_bytes().cmp(b.to_ascii_lowercase().as_bytes()),
        Comparator::AsciiNumeric => match (numeric(a), numeric(b)) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        },
    }
}

pub fn relop(op: RelOp, o: Ordering) -> bool {
    match op {
        RelOp::Gt => o == Ordering::Greater,
        RelOp::Ge => o != Ordering::Less,
        RelOp::Lt => o == Ordering::Less,
        RelOp::Le => o != Ordering::Greater,
        RelOp::Eq => o == Ordering::Equal,
        RelOp::Ne => o != Ordering::Equal,
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Pat {
    Star,
    One,
    Lit(char),
}

fn char_eq(c: Comparator, a: char, b: char) -> bool {
    match c {
        Comparator::AsciiCasemap => a.eq_ignore_ascii_case(&b),
        _ => a == b,
    }
}

/// Wildcard match (`*`, `?`, `\` escapes). On success returns the text of
/// each wildcard, in order (non-greedy, RFC 5229 §3.2).
pub fn wildcard(c: Comparator, text: &str, pattern: &str) -> Option<Vec<String>> {
    let mut pat = Vec::new();
    let mut it = pattern.chars();
    while let Some(ch) = it.next() {
        match ch {
            '*' => {
                // collapse runs of stars, keeping one capture per star
                pat.push(Pat::Star);
            }
            '?' => pat.push(Pat::One),
            '\\' => {
                if let Some(n) = it.next() {
                    pat.push(Pat::Lit(n));
                }
            }
            ch => pat.push(Pat::Lit(ch)),
        }
    }
    let t: Vec<char> = text.chars().collect();
    let wild_index: Vec<usize> = {
        let mut n = 0;
        pat.iter()
            .map(|p| {
                let i = n;
                if !matches!(p, Pat::Lit(_)) {
                    n += 1;
                }
                i
            })
            .collect()
    };
    let nwild = pat.iter().filter(|p| !matches!(p, Pat::Lit(_))).count();
    let mut caps: Vec<(usize, usize)> = vec![(0, 0); nwild];
    let (mut pi, mut si) = (0usize, 0usize);
    // (star pattern index, star start, current end)
    let mut star: Option<(usize, usize, usize)> = None;
    while si < t.len() {
        if let Some(p) = pat.get(pi) {
            match p {
                Pat::Star => {
                    star = Some((pi, si, si));
                    caps[wild_index[pi]] = (si, si);
                    pi += 1;
                    continue;
                }
                Pat::One => {
                    caps[wild_index[pi]] = (si, si + 1);
                    pi += 1;
                    si += 1;
                    continue;
                }
                Pat::Lit(ch) if char_eq(c, *ch, t[si]) => {
                    pi += 1;
                    si += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, s0, cur)) => {
                let cur = cur + 1;
                star = Some((sp, s0, cur));
                caps[wild_index[sp]] = (s0, cur);
                pi = sp + 1;
                si = cur;
            }
            None => return None,
        }
    }
    while let Some(Pat::Star) = pat.get(pi) {
        caps[wild_index[pi]] = (t.len(), t.len());
        pi += 1;
    }
    if pi != pat.len() {
        return None;
    }
    Some(caps.into_iter().map(|(a, b)| t.get(a..b).map(|s| s.iter().collect()).unwrap_or_default()).collect())
}

/// Outcome of matching one value against one key.
pub enum Hit {
    No,
    Yes,
    /// Matched, with match variables `${0}`, `${1}`, …
    Captures(Vec<String>),
}

/// Matches `value` against `key` (for all match types except :count).
pub fn match_one(c: Comparator, mt: MatchType, value: &str, key: &str, re: Option<&regex::Regex>) -> Hit {
    let yes = |b: bool| if b { Hit::Yes } else { Hit::No };
    match mt {
        MatchType::Is => yes(compare(c, value, key) == Ordering::Equal),
        MatchType::Contains => yes(fold(c, value).contains(&fold(c, key))),
        MatchType::Matches => match wildcard(c, value, key) {
            Some(mut caps) => {
                caps.insert(0, value.to_string());
                Hit::Captures(caps)
            }
            None => Hit::No,
        },
        MatchType::Regex => match re {
            Some(re) => match re.captures(value) {
                Some(cap) => {
                    Hit::Captures(cap.iter().map(|m| m.map(|m| m.as_str().to_string()).unwrap_or_default()).collect())
                }
                None => Hit::No,
            },
            None => Hit::No,
        },
        MatchType::Value(op) => yes(relop(op, compare(c, value, key))),
        MatchType::Count(_) => Hit::No,
    }
}

/// Quotes `*`, `?` and `\` (set :quotewildcard).
pub fn quote_wildcard(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if matches!(ch, '*' | '?' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use Comparator::*;

    #[test]
    fn wildcards() {
        assert_eq!(wildcard(AsciiCasemap, "hello world", "H*o w*"), Some(vec!["ell".into(), "orld".into()]));
        assert_eq!(wildcard(Octet, "abc", "a?c"), Some(vec!["b".into()]));
        assert!(wildcard(Octet, "abc", "A?c").is_none());
        assert!(wildcard(Octet, "a*c", "a\\*c").is_some());
        assert!(wildcard(Octet, "abc", "a\\*c").is_none());
        assert_eq!(wildcard(Octet, "", "*"), Some(vec!["".into()]));
        assert!(wildcard(Octet, "", "?").is_none());
        // RFC 5229 §3.2 example: non-greedy
        assert_eq!(
            wildcard(AsciiCasemap, "[acme-users] [fwd] version 1.0 is out", "[*] *"),
            Some(vec!["acme-users".into(), "[fwd] version 1.0 is out".into()])
        );
        // pathological pattern stays fast
        let text = "a".repeat(2000);
        let pat = "*a".repeat(50) + "b";
        assert!(wildcard(Octet, &text, &pat).is_none());
    }

    #[test]
    fn numeric_comparator() {
        assert_eq!(compare(AsciiNumeric, "10", "9"), Ordering::Greater);
        assert_eq!(compare(AsciiNumeric, "007", "7"), Ordering::Equal);
        assert_eq!(compare(AsciiNumeric, "abc", "7"), Ordering::Greater);
        assert_eq!(compare(AsciiNumeric, "abc", "x"), Ordering::Equal);
        assert_eq!(compare(AsciiCasemap, "ABC", "abc"), Ordering::Equal);
        assert_ne!(compare(Octet, "ABC", "abc"), Ordering::Equal);
    }
}
