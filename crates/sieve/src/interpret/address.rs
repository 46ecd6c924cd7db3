//! Address parsing for `address`/`envelope` (RFC 5228 §5.1) and address
//! parts, including subaddress (RFC 5233).

use crate::ast::AddrPart;

/// Splits an address-list header value into bare addresses (`local@domain`),
/// dropping display names, comments and group syntax.
pub fn parse_addresses(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_quote = false;
    let mut angle = 0usize;
    let mut paren = 0usize;
    let mut esc = false;
    let mut items: Vec<String> = Vec::new();
    for ch in value.chars() {
        if esc {
            cur.push(ch);
            esc = false;
            continue;
        }
        match ch {
            '\\' if in_quote || paren > 0 => {
                esc = true;
                cur.push(ch);
            }
            '"' if paren == 0 => {
                in_quote = !in_quote;
                cur.push(ch);
            }
            '(' if !in_quote => {
                paren += 1;
            }
            ')' if !in_quote && paren > 0 => {
                paren -= 1;
            }
            _ if paren > 0 => {}
            '<' if !in_quote => {
                angle += 1;
                cur.push(ch);
            }
            '>' if !in_quote => {
                angle = angle.saturating_sub(1);
                cur.push(ch);
            }
            ',' | ';' if !in_quote && angle == 0 => items.push(std::mem::take(&mut cur)),
            ':' if !in_quote && angle == 0 => {
                // group name: drop it
                cur.clear();
            }
            _ => cur.push(ch),
        }
    }
    items.push(cur);
    for item in items {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let addr = match (item.rfind('<'), item.rfind('>')) {
            (Some(a), Some(b)) if a < b => item[a + 1..b].trim().to_string(),
            _ => item.to_string(),
        };
        // strip a source route "@a,@b:" (already cut at ':' above for bare forms)
        let addr = match addr.rfind(':') {
            Some(i) if addr.starts_with('@') => addr[i + 1..].to_string(),
            _ => addr,
        };
        if !addr.is_empty() {
            out.push(addr);
        }
    }
    out
}

/// Whether `s` is a single plain `local@domain` address (for `redirect`).
pub fn valid_mailbox(s: &str) -> bool {
    let list = parse_addresses(s);
    if list.len() != 1 {
        return false;
    }
    let a = &list[0];
    match a.rfind('@') {
        Some(i) => {
            i > 0 && i + 1 < a.len() && !a.chars().any(|c| c.is_whitespace() || c == '<' || c == '>' || c.is_control())
        }
        None => false,
    }
}

fn split_local(addr: &str) -> (&str, Option<&str>) {
    match addr.rfind('@') {
        Some(i) => (&addr[..i], Some(&addr[i + 1..])),
        None => (addr, None),
    }
}

fn unquote(local: &str) -> String {
    if local.len() >= 2 && local.starts_with('"') && local.ends_with('"') {
        let inner = &local[1..local.len() - 1];
        let mut out = String::new();
        let mut esc = false;
        for c in inner.chars() {
            if esc {
                out.push(c);
                esc = false;
            } else if c == '\\' {
                esc = true;
            } else {
                out.push(c);
            }
        }
        out
    } else {
        local.to_string()
    }
}

/// The requested part of an address; `None` when it does not exist (e.g. no
/// detail), so the value is skipped.
pub fn address_part(addr: &str, part: AddrPart, separator: &str) -> Option<String> {
    let (local, domain) = split_local(addr);
    match part {
        AddrPart::All => Some(addr.to_string()),
        AddrPart::LocalPart => Some(unquote(local)),
        AddrPart::Domain => domain.map(|d| d.to_string()),
        AddrPart::User | AddrPart::Detail => {
            let local = unquote(local);
            if separator.is_empty() {
                return if part == AddrPart::User { Some(local) } else { None };
            }
            match local.find(separator) {
                Some(i) => Some(if part == AddrPart::User {
                    local[..i].to_string()
                } else {
                    local[i + separator.len()..].to_string()
                }),
                None if part == AddrPart::User => Some(local),
                None => None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists() {
        assert_eq!(
            parse_addresses("\"Doe, John\" <john@example.com>, jane@example.org (Jane), undisclosed-recipients:;"),
            vec!["john@example.com", "jane@example.org"]
        );
        assert_eq!(parse_addresses("group: a@b, c@d;"), vec!["a@b", "c@d"]);
        assert!(parse_addresses("").is_empty());
    }

    #[test]
    fn parts() {
        assert_eq!(address_part("ken+sieve@example.org", AddrPart::User, "+").as_deref(), Some("ken"));
        assert_eq!(address_part("ken+sieve@example.org", AddrPart::Detail, "+").as_deref(), Some("sieve"));
        assert_eq!(address_part("ken@example.org", AddrPart::Detail, "+"), None);
        assert_eq!(address_part("ken+@example.org", AddrPart::Detail, "+").as_deref(), Some(""));
        assert_eq!(address_part("ken@Example.org", AddrPart::Domain, "+").as_deref(), Some("Example.org"));
        assert!(valid_mailbox("a@b.c"));
        assert!(!valid_mailbox("a b@c"));
        assert!(!valid_mailbox("nope"));
    }
}
