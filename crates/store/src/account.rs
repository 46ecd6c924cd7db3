//! One account's database (`DATA/accounts/<id>/index.sqlite`) and change feed.
//!
//! Writes go through one writer thread per account that drains its queue into
//! a single transaction (group commit, invariant 4); reads use their own
//! connections (WAL lets them run beside the writer). After a write commits,
//! [`Change`]s are published on the account's broadcast channel.

use tokio::sync::broadcast;

use crate::{
    AccountId, BlobStore, Changes, Change, CopyResult, FlagOp, Flags, MailboxId, MailboxInfo, MailboxStatus,
    MessageRecord, MessageSummary, NewMessage, Result,
};

pub struct Account {
    id: AccountId,
    // writer queue, read pool, feed …
}

impl Account {
    pub fn id(&self) -> AccountId {
        self.id
    }

    /// The change feed: every committed change to this account.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        todo!()
    }

    // ----- mailboxes -----

    /// All mailboxes, sorted by name.
    pub async fn mailboxes(&self) -> Result<Vec<MailboxInfo>> {
        todo!()
    }

    /// Looks a mailbox up by its full name (`INBOX` must already be normalised
    /// by the caller).
    pub async fn mailbox(&self, name: &str) -> Result<Option<MailboxInfo>> {
        todo!()
    }

    /// Creates a mailbox and any missing parents (RFC 9051 §6.3.4). A new
    /// mailbox gets a fresh UIDVALIDITY, different from any earlier mailbox of
    /// the same name.
    pub async fn create_mailbox(&self, name: &str, special_use: Option<&str>) -> Result<MailboxId> {
        todo!()
    }

    /// Deletes a mailbox and its messages (tombstones go with it). `INBOX` and
    /// mailboxes with children are refused.
    pub async fn delete_mailbox(&self, name: &str) -> Result<()> {
        todo!()
    }

    /// Renames a mailbox and all its children. Renaming INBOX moves its
    /// messages to a new mailbox and leaves INBOX empty (RFC 9051 §6.3.6).
    pub async fn rename_mailbox(&self, from: &str, to: &str) -> Result<()> {
        todo!()
    }

    /// Subscribes or unsubscribes a name (which need not exist, RFC 9051 §6.3.7).
    pub async fn set_subscribed(&self, name: &str, subscribed: bool) -> Result<()> {
        todo!()
    }

    pub async fn subscriptions(&self) -> Result<Vec<String>> {
        todo!()
    }

    pub async fn status(&self, mailbox: MailboxId) -> Result<MailboxStatus> {
        todo!()
    }

    // ----- messages -----

    /// Appends messages (one transaction; shares it with concurrent writers).
    /// Returns `(uid_validity, uids)`.
    pub async fn append(&self, mailbox: MailboxId, messages: Vec<NewMessage>) -> Result<(u32, Vec<u32>)> {
        todo!()
    }

    /// UID, MODSEQ and flags of every message, ascending by UID (SELECT).
    pub async fn summaries(&self, mailbox: MailboxId) -> Result<Vec<MessageSummary>> {
        todo!()
    }

    /// What changed after `since` (DESIGN.md §3).
    pub async fn changes_since(&self, mailbox: MailboxId, since: u64) -> Result<Changes> {
        todo!()
    }

    /// Full records for these UIDs (those that still exist), ascending.
    pub async fn records(&self, mailbox: MailboxId, uids: Vec<u32>) -> Result<Vec<MessageRecord>> {
        todo!()
    }

    /// Changes flags. Messages whose flags really change get a new MODSEQ;
    /// with `unchanged_since`, messages whose MODSEQ is greater are left alone
    /// and returned in the second list (RFC 7162 §3.1.3). Returns the new
    /// state of every message in `uids` that exists.
    pub async fn store_flags(
        &self,
        mailbox: MailboxId,
        uids: Vec<u32>,
        op: FlagOp,
        flags: Flags,
        unchanged_since: Option<u64>,
    ) -> Result<(Vec<MessageSummary>, Vec<u32>)> {
        todo!()
    }

    /// Expunges messages flagged `\Deleted` (only those in `uids` when given),
    /// leaving tombstones. Returns the expunged UIDs, ascending.
    pub async fn expunge(&self, mailbox: MailboxId, uids: Option<Vec<u32>>) -> Result<Vec<u32>> {
        todo!()
    }

    /// Copies messages (same blob, new UIDs, flags kept).
    pub async fn copy(&self, from: MailboxId, uids: Vec<u32>, to: MailboxId) -> Result<CopyResult> {
        todo!()
    }

    /// Moves messages atomically: copy and expunge in one transaction (RFC 6851).
    pub async fn move_messages(&self, from: MailboxId, uids: Vec<u32>, to: MailboxId) -> Result<CopyResult> {
        todo!()
    }

    pub fn blobs(&self) -> &BlobStore {
        todo!()
    }
}
