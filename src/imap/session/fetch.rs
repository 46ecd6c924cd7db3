//! FETCH and UID FETCH.

use std::collections::HashMap;

use imap_proto::{Code, Data, FetchAttr, FetchValue, Section, SectionText, SequenceSet};
use store::{FetchParts, FlagOp, Flags, MessageRecord};

use super::{Done, Session, State};
use crate::imap::convert::{flags_to_wire, unix_to_datetime};
use crate::imap::error::{ImapError, Result};
use crate::imap::fetch as content;

/// Messages read from the store per round trip; bounds memory for `1:*`.
const CHUNK: usize = 256;
/// Flush responses to the socket once this many bytes are queued.
const FLUSH_AT: usize = 1 << 20;

impl Session {
    /// RFC 9051 §6.4.5 FETCH: `fetch = "FETCH" SP sequence-set SP ("ALL" / "FULL" / "FAST" / fetch-att / "(" fetch-att *(SP fetch-att) ")")`;
    /// RFC 3516 BINARY; RFC 7162 §3.1.4 CHANGEDSINCE; RFC 8970 §3 PREVIEW. Fetching a body
    /// section without `.PEEK` sets `\Seen` (read-write mailboxes only) and
    /// reports the new FLAGS. UID FETCH always includes UID (§6.4.9). Once
    /// CONDSTORE is on, every FETCH response carries MODSEQ (RFC 7162 §3.1);
    /// `(CHANGEDSINCE m VANISHED)` first reports expunged UIDs of the set as
    /// `VANISHED (EARLIER)` (§3.2.6).
    pub(super) async fn cmd_fetch(
        &mut self,
        uid: bool,
        set: &SequenceSet,
        items: Vec<FetchAttr>,
        changed_since: Option<u64>,
        vanished: bool,
    ) -> Result<Done> {
        let account = self.account()?;
        if vanished && !self.enabled.qresync {
            return Err(ImapError::bad("VANISHED requires ENABLE QRESYNC"));
        }
        let uids = self.resolve_uids(set, uid)?;
        // An item asked for twice is answered once (so each stored value can
        // be moved into its response instead of copied).
        let mut unique = Vec::with_capacity(items.len());
        for item in items {
            if !unique.contains(&item) {
                unique.push(item);
            }
        }
        let mut items = unique;
        if uid && !items.contains(&FetchAttr::Uid) {
            items.insert(0, FetchAttr::Uid);
        }
        if self.enabled.condstore && !items.contains(&FetchAttr::ModSeq) {
            items.push(FetchAttr::ModSeq);
        }
        let view = self.view()?;
        let mailbox = view.mailbox.id;
        if let (true, Some(since)) = (vanished, changed_since) {
            let set = self.resolve_saved(set, true)?;
            let largest = self.view()?.largest_uid();
            let gone = crate::imap::selected::vanished_since(&account, mailbox, since, &set, largest).await?;
            if let Some(uids) = crate::imap::selected::ranges_to_set(gone) {
                self.data(Data::Vanished { earlier: true, uids });
            }
        }
        let view = self.view()?;
        let sets_seen = !view.read_only
            && items.iter().any(|i| {
                matches!(
                    i,
                    FetchAttr::BodySection { peek: false, .. }
                        | FetchAttr::Binary { peek: false, .. }
                        | FetchAttr::Rfc822
                        | FetchAttr::Rfc822Text
                )
            });
        let needs_raw = items.iter().any(|i| {
            matches!(
                i,
                FetchAttr::BodySection { .. }
                    | FetchAttr::Binary { .. }
                    | FetchAttr::BinarySize { .. }
                    | FetchAttr::Rfc822
                    | FetchAttr::Rfc822Header
                    | FetchAttr::Rfc822Text
            )
        });
        // RFC 8970: previews are stored at delivery; a message stored before
        // that gets its preview computed here (and stored), unless LAZY.
        let computes_preview = items.contains(&FetchAttr::Preview { lazy: false });
        // FLAGS / UID / MODSEQ alone (what a client syncing flags asks for):
        // no message metadata is read.
        let flags_only =
            !sets_seen && items.iter().all(|i| matches!(i, FetchAttr::Uid | FetchAttr::Flags | FetchAttr::ModSeq));
        if flags_only {
            // Answered from the mailbox snapshot (checked against the store's
            // HIGHESTMODSEQ when taken), without reading a row. A message
            // without keywords that is not \Recent for this session is
            // written straight into the output buffer; the others go through
            // the encoder, which also announces new keywords.
            let snap = account.snapshot(mailbox).await?;
            let rev1 = !self.enabled.imap4rev2;
            let mut spare: Vec<FetchValue> = Vec::with_capacity(items.len());
            for &u in &uids {
                let Ok(i) = snap.uids.binary_search(&u) else { continue };
                if changed_since.is_some_and(|c| snap.modseqs[i] <= c) {
                    continue;
                }
                let State::Selected { view, .. } = &self.state else {
                    return Err(ImapError::Internal("FETCH outside the selected state".into()));
                };
                let Some(seq) = view.seq_of(u) else { continue };
                if snap.message_keywords.contains_key(&u) || (rev1 && view.is_recent(u)) {
                    let s = snap.summary(i);
                    let mut values = std::mem::take(&mut spare);
                    values.clear();
                    values.extend(items.iter().map(|item| match item {
                        FetchAttr::Uid => FetchValue::Uid(s.uid),
                        FetchAttr::ModSeq => FetchValue::ModSeq(s.modseq),
                        _ => FetchValue::Flags(flags_to_wire(&s.flags)),
                    }));
                    spare = self.fetch_data(seq, values);
                } else {
                    encode_flags_fetch(&mut self.conn.out, seq, &items, u, snap.modseqs[i], snap.flags[i]);
                }
                if self.conn.out.len() >= FLUSH_AT {
                    self.conn.flush().await?;
                }
            }
            return Ok(Done::ok(if uid { "UID FETCH completed" } else { "FETCH completed" }));
        }
        let parts = FetchParts {
            envelope: items.contains(&FetchAttr::Envelope),
            bodystructure: items.contains(&FetchAttr::BodyStructure),
            body: items.contains(&FetchAttr::Body),
            ids: items.iter().any(|i| matches!(i, FetchAttr::EmailId | FetchAttr::ThreadId | FetchAttr::SaveDate)),
            keys: false,
        };
        // Without message bytes a record is a few hundred bytes: larger chunks
        // mean fewer round trips to the store.
        let chunk_size = if needs_raw || computes_preview { CHUNK } else { CHUNK * 16 };
        for chunk in uids.chunks(chunk_size) {
            let mut records = account.fetch_records(mailbox, chunk.to_vec(), parts).await?;
            if let Some(since) = changed_since {
                records.retain(|r| r.modseq > since);
            }
            let mut seen_now: HashMap<u32, store::MessageSummary> = HashMap::new();
            let mut new_previews = Vec::new();
            if sets_seen {
                let unseen: Vec<u32> = records.iter().filter(|r| !r.flags.has(Flags::SEEN)).map(|r| r.uid).collect();
                if !unseen.is_empty() {
                    let seen = Flags { system: Flags::SEEN, keywords: Vec::new() };
                    let (updated, _) = account.store_flags(mailbox, unseen, FlagOp::Add, seen, None).await?;
                    for s in updated {
                        seen_now.insert(s.uid, s);
                    }
                }
            }
            for mut rec in records {
                let flags_changed = match seen_now.remove(&rec.uid) {
                    Some(s) => {
                        rec.flags = s.flags;
                        rec.modseq = s.modseq;
                        true
                    }
                    None => false,
                };
                let missing_preview = computes_preview && rec.meta.preview.is_none();
                let raw = if needs_raw || missing_preview { Some(self.read_message(&rec).await?) } else { None };
                if let (true, Some(raw)) = (missing_preview, raw.as_deref()) {
                    let p = content::preview(raw);
                    new_previews.push((rec.uid, p.clone()));
                    rec.meta.preview = Some(p);
                }
                let mut values = Vec::with_capacity(items.len() + 1);
                for item in &items {
                    values.push(fetch_value(item, &mut rec, raw.as_deref())?);
                }
                if flags_changed && !items.contains(&FetchAttr::Flags) {
                    values.push(FetchValue::Flags(flags_to_wire(&rec.flags)));
                }
                let State::Selected { view, .. } = &mut self.state else {
                    return Err(ImapError::Internal("FETCH outside the selected state".into()));
                };
                if flags_changed {
                    view.set_flags(rec.uid, rec.modseq);
                }
                let Some(seq) = view.seq_of(rec.uid) else { continue };
                self.data(Data::Fetch { seq, items: values });
                if self.conn.out.len() >= FLUSH_AT {
                    self.conn.flush().await?;
                }
            }
            if !new_previews.is_empty() {
                account.set_previews(mailbox, new_previews).await?;
            }
        }
        Ok(Done::ok(if uid { "UID FETCH completed" } else { "FETCH completed" }))
    }

    /// The message as served: per-recipient prefix + blob (DESIGN.md §2).
    pub(crate) async fn read_message(&self, rec: &MessageRecord) -> Result<Vec<u8>> {
        let blobs = self.shared.store.blobs().clone();
        let id = rec.blob.clone();
        let mut raw = rec.prefix.clone();
        let body = tokio::task::spawn_blocking(move || blobs.read(&id))
            .await
            .map_err(|e| ImapError::Internal(e.to_string()))??;
        raw.extend_from_slice(&body);
        Ok(raw)
    }
}

/// `* seq FETCH (...)` of UID / FLAGS / MODSEQ `items` for a message with
/// only system flags, byte for byte what the encoder writes for the same
/// values (tested below), without building the response first.
fn encode_flags_fetch(out: &mut Vec<u8>, seq: u32, items: &[FetchAttr], uid: u32, modseq: u64, system: u8) {
    use imap_proto::encoder::uint;
    out.extend_from_slice(b"* ");
    uint(u64::from(seq), out);
    out.extend_from_slice(b" FETCH (");
    for (n, item) in items.iter().enumerate() {
        if n > 0 {
            out.push(b' ');
        }
        match item {
            FetchAttr::Uid => {
                out.extend_from_slice(b"UID ");
                uint(u64::from(uid), out);
            }
            FetchAttr::ModSeq => {
                out.extend_from_slice(b"MODSEQ (");
                uint(modseq, out);
                out.push(b')');
            }
            _ => {
                out.extend_from_slice(b"FLAGS (");
                let mut first = true;
                for (bit, name) in SYSTEM_FLAG_NAMES {
                    if system & bit != 0 {
                        if !first {
                            out.push(b' ');
                        }
                        out.extend_from_slice(name);
                        first = false;
                    }
                }
                out.push(b')');
            }
        }
    }
    out.extend_from_slice(b")\r\n");
}

/// System flag bits in the order [`flags_to_wire`] lists them.
const SYSTEM_FLAG_NAMES: [(u8, &[u8]); 5] = [
    (Flags::SEEN, b"\\Seen"),
    (Flags::ANSWERED, b"\\Answered"),
    (Flags::FLAGGED, b"\\Flagged"),
    (Flags::DELETED, b"\\Deleted"),
    (Flags::DRAFT, b"\\Draft"),
];

/// One FETCH item of one message. The stored ENVELOPE, BODYSTRUCTURE and
/// BODY are moved out of `rec` (each item is asked for at most once).
fn fetch_value(item: &FetchAttr, rec: &mut MessageRecord, raw: Option<&[u8]>) -> Result<FetchValue> {
    let raw = || raw.ok_or_else(|| ImapError::Internal("message bytes not loaded".into()));
    Ok(match item {
        FetchAttr::Uid => FetchValue::Uid(rec.uid),
        FetchAttr::Flags => FetchValue::Flags(flags_to_wire(&rec.flags)),
        FetchAttr::InternalDate => {
            FetchValue::InternalDate(unix_to_datetime(rec.internal_date, rec.internal_date_zone))
        }
        FetchAttr::Rfc822Size => FetchValue::Rfc822Size(rec.size),
        FetchAttr::Envelope => FetchValue::Envelope(std::mem::take(&mut rec.meta.envelope)),
        FetchAttr::BodyStructure => FetchValue::BodyStructure(std::mem::take(&mut rec.meta.bodystructure)),
        FetchAttr::Body => FetchValue::Body(std::mem::take(&mut rec.meta.body)),
        FetchAttr::ModSeq => FetchValue::ModSeq(rec.modseq),
        // RFC 8474 §5.3, RFC 8514 §4.2 (save dates are kept in UTC).
        FetchAttr::EmailId => FetchValue::EmailId(rec.email_id.clone()),
        FetchAttr::ThreadId => FetchValue::ThreadId(Some(rec.thread_id.clone())),
        FetchAttr::SaveDate => FetchValue::SaveDate(Some(unix_to_datetime(rec.save_date, 0))),
        // RFC 8970 §3.2: NIL only for LAZY (not computed yet); see cmd_fetch.
        FetchAttr::Preview { .. } => FetchValue::Preview(rec.meta.preview.clone()),
        FetchAttr::Rfc822 => FetchValue::Rfc822(Some(raw()?.to_vec())),
        FetchAttr::Rfc822Header => FetchValue::Rfc822Header(content::section(
            raw()?,
            &Section { part: Vec::new(), text: Some(SectionText::Header) },
        )),
        FetchAttr::Rfc822Text => FetchValue::Rfc822Text(content::section(
            raw()?,
            &Section { part: Vec::new(), text: Some(SectionText::Text) },
        )),
        FetchAttr::BodySection { section, partial, .. } => {
            let data = content::section(raw()?, section);
            let (origin, data) = match partial {
                Some((offset, count)) => (Some(*offset), data.map(|d| content::partial(&d, *offset, *count))),
                None => (None, data),
            };
            FetchValue::BodySection { section: section.clone(), origin, data }
        }
        FetchAttr::Binary { part, partial, .. } => {
            let data = content::binary(raw()?, part).map_err(|_| {
                ImapError::no(Code::Other("UNKNOWN-CTE".into(), None), "unknown Content-Transfer-Encoding")
            })?;
            let (origin, data) = match partial {
                Some((offset, count)) => (Some(*offset), data.map(|d| content::partial(&d, *offset, *count))),
                None => (None, data),
            };
            FetchValue::Binary { part: part.clone(), origin, data }
        }
        FetchAttr::BinarySize { part } => {
            let data = content::binary(raw()?, part).map_err(|_| {
                ImapError::no(Code::Other("UNKNOWN-CTE".into(), None), "unknown Content-Transfer-Encoding")
            })?;
            FetchValue::BinarySize { part: part.clone(), size: data.map(|d| d.len() as u64).unwrap_or(0) }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use imap_proto::{encoder, Data, Response};

    /// The direct writer of flag-only FETCH responses gives the encoder's bytes.
    #[test]
    fn flags_fetch_is_what_the_encoder_writes() {
        let orders: [&[FetchAttr]; 5] = [
            &[FetchAttr::Flags],
            &[FetchAttr::Uid, FetchAttr::Flags],
            &[FetchAttr::Uid, FetchAttr::Flags, FetchAttr::ModSeq],
            &[FetchAttr::ModSeq, FetchAttr::Flags, FetchAttr::Uid],
            &[FetchAttr::Uid, FetchAttr::ModSeq],
        ];
        for items in orders {
            for system in 0..32u8 {
                for (seq, uid, modseq) in
                    [(1, 1, 1), (7, 4_294_967_295, u64::MAX >> 1), (100_000, 123_456, 98_765_432_101)]
                {
                    let mut fast = Vec::new();
                    encode_flags_fetch(&mut fast, seq, items, uid, modseq, system);
                    let flags = Flags { system, keywords: Vec::new() };
                    let values = items
                        .iter()
                        .map(|i| match i {
                            FetchAttr::Uid => FetchValue::Uid(uid),
                            FetchAttr::ModSeq => FetchValue::ModSeq(modseq),
                            _ => FetchValue::Flags(flags_to_wire(&flags)),
                        })
                        .collect();
                    let mut slow = Vec::new();
                    encoder::encode(&Response::Data(Data::Fetch { seq, items: values }), &mut slow);
                    assert_eq!(String::from_utf8_lossy(&fast), String::from_utf8_lossy(&slow), "{items:?} {system}");
                }
            }
        }
    }
}
