//! LIST (with LIST-EXTENDED, LIST-STATUS, SPECIAL-USE, LIST-METADATA) and LSUB.

use std::collections::BTreeSet;

use imap_proto::{Data, ListCommand};

use super::{normalize_inbox, Done, Session};
use crate::imap::error::Result;

impl Session {
    /// RFC 9051 §6.3.9 LIST; RFC 5258 (LIST-EXTENDED) selection options
    /// SUBSCRIBED, REMOTE, RECURSIVEMATCH, SPECIAL-USE and return options
    /// SUBSCRIBED, CHILDREN, SPECIAL-USE; RFC 5819 RETURN (STATUS (…)).
    /// `\HasChildren`/`\HasNoChildren` and special-use attributes are always
    /// returned (RFC 9051 §7.3.1, RFC 6154 §2). RFC 9590 RETURN (METADATA
    /// (…)): a METADATA response after each existing mailbox (unset entries
    /// NIL), `[METADATA LONGENTRIES n]` when MAXSIZE left values out.
    pub(super) async fn cmd_list(&mut self, list: ListCommand) -> Result<Done> {
        let account = self.account()?;
        let reference = self.mailbox_name(&list.reference)?;
        let patterns: Vec<String> = list.patterns.iter().map(|p| self.mailbox_name(p)).collect::<Result<Vec<_>>>()?;
        if !list.extended && patterns.len() == 1 && patterns[0].is_empty() {
            // `LIST "" ""`: the hierarchy delimiter and root (RFC 9051 §6.3.9).
            self.data(Data::List {
                attributes: vec!["\\Noselect".into()],
                delimiter: Some('/'),
                name: String::new(),
                child_info: None,
            });
            return Ok(Done::ok("LIST completed"));
        }
        let patterns: Vec<String> = patterns.into_iter().map(|p| format!("{reference}{p}")).collect();
        let mailboxes = account.mailboxes().await?;
        let subscribed: BTreeSet<String> = account.subscriptions().await?.into_iter().collect();
        let existing: BTreeSet<&str> = mailboxes.iter().map(|m| m.name.as_str()).collect();

        // Candidate names: existing mailboxes, plus subscribed names that do
        // not exist when listing subscriptions.
        let mut names: BTreeSet<String> = existing.iter().map(|s| s.to_string()).collect();
        if list.select.subscribed {
            names.extend(subscribed.iter().cloned());
        }
        let want_subscribed = list.select.subscribed || list.ret.subscribed;
        let mut longest_skipped: Option<u64> = None;
        for name in names {
            let info = mailboxes.iter().find(|m| m.name == name);
            let matched = patterns.iter().any(|p| matches_pattern(p, &name));
            let mut child_info = None;
            if list.select.subscribed && !subscribed.contains(&name) {
                // RECURSIVEMATCH: a parent of a subscribed mailbox is listed
                // with CHILDINFO even if not subscribed itself (RFC 5258 §3.5),
                // unless every such child is listed anyway (the SHOULD of §3.5).
                let prefix = format!("{name}/");
                let unlisted_child =
                    |s: &&String| s.starts_with(&prefix) && !patterns.iter().any(|p| matches_pattern(p, s));
                if !(matched && list.select.recursive_match && subscribed.iter().any(|s| unlisted_child(&s))) {
                    continue;
                }
                child_info = Some(vec!["SUBSCRIBED".to_string()]);
            } else if !matched {
                continue;
            }
            if list.select.special_use && info.and_then(|i| i.special_use.as_ref()).is_none() {
                continue;
            }
            let mut attrs = Vec::new();
            match info {
                Some(info) => {
                    attrs.push(children_attr(&existing, &info.name));
                    if let Some(u) = &info.special_use {
                        attrs.push(u.clone());
                    }
                }
                None => attrs.push("\\NonExistent".into()),
            }
            if want_subscribed && subscribed.contains(&name) {
                attrs.push("\\Subscribed".into());
            }
            let wire = self.wire_name(&name);
            self.data(Data::List { attributes: attrs, delimiter: Some('/'), name: wire.clone(), child_info });
            if let (Some(items), Some(info)) = (&list.ret.status, info) {
                let status = account.status(info.id).await?;
                self.data(super::status::status_data(wire.clone(), info, &status, items, self.append_limit()));
            }
            // RFC 9590 §3: the requested entries follow the mailbox's LIST line.
            if let (Some((options, entries)), Some(info)) = (&list.ret.metadata, info) {
                let found = self.read_metadata(Some(info.id), options, entries).await?;
                longest_skipped = longest_skipped.max(found.longest_skipped);
                if !found.entries.is_empty() {
                    self.data(Data::Metadata { mailbox: wire, entries: found.entries });
                }
            }
        }
        if let Some(n) = longest_skipped {
            let code = imap_proto::Code::Other("METADATA".into(), Some(format!("LONGENTRIES {n}")));
            return Ok(Done::with_code(code, "LIST completed"));
        }
        Ok(Done::ok("LIST completed"))
    }
}

fn children_attr(existing: &BTreeSet<&str>, name: &str) -> String {
    let prefix = format!("{name}/");
    let has = existing.range(prefix.as_str()..).next().is_some_and(|n| n.starts_with(&prefix));
    if has { "\\HasChildren" } else { "\\HasNoChildren" }.to_string()
}

/// LIST wildcards (RFC 9051 §6.3.9): `*` matches anything, `%` anything but
/// the hierarchy separator. INBOX matches case-insensitively.
pub fn matches_pattern(pattern: &str, name: &str) -> bool {
    let pattern = normalize_inbox(pattern);
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    if name == "INBOX" && wildcard(&p.iter().map(|c| c.to_ascii_uppercase()).collect::<Vec<_>>(), &n) {
        return true;
    }
    wildcard(&p, &n)
}

/// Iterative wildcard match with backtracking limited to the last `*`/`%`
/// (linear-ish: no exponential blow-up on hostile patterns).
fn wildcard(p: &[char], n: &[char]) -> bool {
    // dp[j] = pattern prefix p[..i] matches n[..j]
    let mut dp = vec![false; n.len() + 1];
    dp[0] = true;
    for &pc in p {
        let mut next = vec![false; n.len() + 1];
        match pc {
            '*' => {
                let mut any = false;
                for j in 0..=n.len() {
                    any |= dp[j];
                    next[j] = any;
                }
            }
            '%' => {
                let mut any = false;
                for j in 0..=n.len() {
                    if j > 0 && n[j - 1] == '/' {
                        any = false;
                    }
                    any |= dp[j];
                    next[j] = any;
                }
            }
            c => {
                for j in 1..=n.len() {
                    next[j] = dp[j - 1] && n[j - 1] == c;
                }
            }
        }
        dp = next;
    }
    dp[n.len()]
}

#[cfg(test)]
mod tests {
    use super::matches_pattern;

    #[test]
    fn wildcards() {
        assert!(matches_pattern("*", "a/b/c"));
        assert!(matches_pattern("%", "a"));
        assert!(!matches_pattern("%", "a/b"));
        assert!(matches_pattern("a/%", "a/b"));
        assert!(!matches_pattern("a/%", "a/b/c"));
        assert!(matches_pattern("a/*", "a/b/c"));
        assert!(matches_pattern("inbox", "INBOX"));
        assert!(matches_pattern("Inbox/%", "INBOX/x"));
        assert!(matches_pattern("%x%", "axb"));
        assert!(!matches_pattern("Sent", "Sent/x"));
        // Hostile patterns stay polynomial.
        assert!(matches_pattern(&"*%".repeat(200), &format!("{}b", "a/".repeat(300))));
        assert!(!matches_pattern(&format!("{}c", "*".repeat(300)), &"ab".repeat(500)));
    }
}
