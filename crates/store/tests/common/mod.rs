#![allow(dead_code)]

use std::sync::Arc;

use store::{Account, AccountId, Flags, MailboxId, MessageMeta, NewMessage, Store};
use tempfile::TempDir;

pub struct Fixture {
    pub dir: TempDir,
    pub store: Store,
    pub id: AccountId,
    pub acc: Arc<Account>,
}

pub fn setup() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("open store");
    let id = store.create_account("alice@example.org", "$argon2id$x").expect("create account");
    let acc = store.account(id).expect("open account");
    Fixture { dir, store, id, acc }
}

/// Writes a blob and builds a message for it.
pub fn msg(store: &Store, body: &str) -> NewMessage {
    msg_flags(store, body, Flags::default())
}

pub fn msg_flags(store: &Store, body: &str, flags: Flags) -> NewMessage {
    let bytes = format!("Subject: {body}\r\n\r\n{body}\r\n").into_bytes();
    let blob = store.blobs().write(&bytes).expect("blob");
    NewMessage {
        blob,
        size: bytes.len() as u64,
        prefix: Vec::new(),
        flags,
        internal_date: 1_700_000_000,
        internal_date_zone: 60,
        meta: MessageMeta { subject: body.to_string(), ..MessageMeta::default() },
    }
}

pub async fn mailbox_id(acc: &Account, name: &str) -> MailboxId {
    acc.mailbox(name).await.expect("lookup").expect("mailbox exists").id
}

pub fn flags(system: u8) -> Flags {
    Flags { system, keywords: Vec::new() }
}

pub fn uids(s: &[store::MessageSummary]) -> Vec<u32> {
    s.iter().map(|m| m.uid).collect()
}
