//! `postfach index rebuild --user NAME`: (re)builds an account's full-text
//! index (issue #7) from its messages. Works while the server runs: until a
//! message is indexed again, SEARCH reads it, so answers stay exact
//! throughout; new deliveries index themselves.

use std::io::Write;

use anyhow::Context as _;

use super::IndexCommand;

/// Groups of messages indexed per write transaction.
const BATCH: usize = 64;

pub fn run(store: &store::Store, cmd: &IndexCommand, out: &mut impl Write) -> anyhow::Result<()> {
    let IndexCommand::Rebuild { user } = cmd;
    let id = store.account_id(user)?.with_context(|| format!("no account {user}"))?;
    let account = store.account(id).with_context(|| format!("cannot open account {user}"))?;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let (indexed, unreadable) = rt.block_on(rebuild(store, &account))?;
    writeln!(out, "{user}: indexed {indexed} messages")?;
    if unreadable > 0 {
        writeln!(
            out,
            "{user}: {unreadable} messages could not be read or decoded and stay unindexed (SEARCH reads them)"
        )?;
    }
    Ok(())
}

/// Empties the index, then indexes every message. Returns the number of
/// messages indexed and of message groups that could not be read or decoded.
pub async fn rebuild(store: &store::Store, account: &store::Account) -> anyhow::Result<(usize, usize)> {
    account.clear_text_index().await.context("cannot clear the index")?;
    let groups = account.unindexed().await.context("cannot list messages")?;
    let (mut indexed, mut unreadable) = (0, 0);
    for chunk in groups.chunks(BATCH) {
        let blobs = store.blobs().clone();
        let chunk = chunk.to_vec();
        let (docs, bad) = tokio::task::spawn_blocking(move || {
            let mut docs = Vec::with_capacity(chunk.len());
            let mut bad = 0;
            for u in chunk {
                let Ok(blob) = blobs.read(&u.blob) else {
                    tracing::warn!(blob = %u.blob.0, "cannot read message; left unindexed");
                    bad += 1;
                    continue;
                };
                let raw = [&u.prefix[..], &blob[..]].concat();
                // SUBJECT/FROM/TO/CC are checked against the stored strings.
                let meta = store::MessageMeta {
                    subject: u.subject.clone(),
                    from: u.from.clone(),
                    to: u.to.clone(),
                    cc: u.cc.clone(),
                    ..Default::default()
                };
                let Some(text) = crate::imap::search::message_text(&raw, &meta) else {
                    tracing::warn!(blob = %u.blob.0, "cannot decode message; left unindexed");
                    bad += 1;
                    continue;
                };
                docs.push((u, store::TextDoc::new(&text)));
            }
            (docs, bad)
        })
        .await?;
        unreadable += bad;
        indexed += account.index_text(docs).await.context("cannot write the index")?;
    }
    Ok((indexed, unreadable))
}
