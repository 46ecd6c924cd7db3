//! CREATE.

use imap_proto::{Code, MailboxName};

use super::{Done, Session};
use crate::imap::error::{ImapError, Result};

/// The special uses a client may ask for (RFC 6154 §2).
const SPECIAL_USES: &[&str] = &["\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk", "\\Sent", "\\Trash"];

impl Session {
    /// RFC 9051 §6.3.4 CREATE; RFC 6154 §3 `CREATE name (USE (\Sent))`.
    /// A trailing separator is dropped ("create a" = "create a/"); missing
    /// parents are created; creating INBOX or an existing name fails with
    /// `[ALREADYEXISTS]`.
    pub(super) async fn cmd_create(&mut self, name: &MailboxName, special_use: &[String]) -> Result<Done> {
        let mut internal = self.mailbox_name(name)?;
        while internal.ends_with('/') {
            internal.pop();
        }
        validate_name(&internal)?;
        if internal == "INBOX" {
            return Err(ImapError::no(Code::AlreadyExists, "INBOX always exists"));
        }
        let use_ = match special_use {
            [] => None,
            [one] => match SPECIAL_USES.iter().find(|s| s.eq_ignore_ascii_case(one)) {
                Some(s) => Some(*s),
                None => {
                    return Err(ImapError::no(Code::Other("USEATTR".into(), None), format!("unsupported use {one}")))
                }
            },
            _ => return Err(ImapError::no(Code::Other("USEATTR".into(), None), "only one special use per mailbox")),
        };
        let account = self.account()?;
        let id = account.create_mailbox(&internal, use_).await?;
        // RFC 8474 §4.1: the tagged OK carries the new mailbox's MAILBOXID.
        match account.mailbox_by_id(id).await? {
            Some(mb) => Ok(Done::with_code(Code::MailboxId(mb.object_id), "CREATE completed")),
            // Deleted by another session in the meantime.
            None => Ok(Done::ok("CREATE completed")),
        }
    }
}

/// Names the store would accept, checked here for a helpful message: no
/// empty components, no control characters, not too long.
pub fn validate_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(ImapError::no(Code::Cannot, "empty mailbox name"));
    }
    if name.len() > 1000 {
        return Err(ImapError::no(Code::Cannot, "mailbox name too long"));
    }
    if name.split('/').any(|c| c.is_empty()) {
        return Err(ImapError::no(Code::Cannot, "mailbox name has an empty level"));
    }
    if name.chars().any(|c| c.is_control() || c == '*' || c == '%') {
        return Err(ImapError::no(Code::Cannot, "mailbox name contains a forbidden character"));
    }
    Ok(())
}
