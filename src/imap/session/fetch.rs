//! FETCH and UID FETCH.

use std::collections::HashMap;

use imap_proto::{Code, Data, FetchAttr, FetchValue, Section, SectionText, SequenceSet};
use store::{FetchParts, FlagOp, Flags, MessageRecord, RecordRef};

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
            // HIGHESTMODSEQ when taken), without reading a row.
            let snap = account.snapshot(mailbox).await?;
            let mut batch = Encoded::default();
            // `uids`, the snapshot's and the view's UIDs all ascend: two
            // cursors instead of two binary searches per message.
            let (mut si, mut vi) = (0, 0);
            for &u in &uids {
                si = seek(&snap.uids, si, u);
                if snap.uids.get(si) != Some(&u) {
                    continue;
                }
                let i = si;
                if changed_since.is_some_and(|c| snap.modseqs[i] <= c) {
                    continue;
                }
                let view = self.view()?;
                vi = seek(&view.uids, vi, u);
                if view.uids.get(vi) != Some(&u) {
                    continue;
                }
                let seq = vi as u32 + 1;
                let keywords = if snap.message_keywords.is_empty() {
                    ""
                } else {
                    snap.message_keywords.get(&u).map_or("", |k| k.as_str())
                };
                let rec = RecordRef {
                    uid: u,
                    modseq: snap.modseqs[i],
                    system_flags: snap.flags[i],
                    keywords,
                    ..RecordRef::default()
                };
                batch.push(seq, self.is_plain(u), &items, &rec);
                if batch.out.len() >= FLUSH_AT {
                    self.send_encoded(std::mem::take(&mut batch)).await?;
                }
            }
            self.send_encoded(batch).await?;
            return Ok(Done::ok(if uid { "UID FETCH completed" } else { "FETCH completed" }));
        }
        if !sets_seen && items.iter().all(Encoded::can_encode) {
            // Metadata from the message rows (ENVELOPE, BODYSTRUCTURE, dates,
            // sizes): encoded on the store's reader thread straight from the
            // SQLite row into response bytes, without a record in between.
            let parts = FetchParts {
                envelope: items.contains(&FetchAttr::Envelope),
                bodystructure: items.contains(&FetchAttr::BodyStructure),
                body: items.contains(&FetchAttr::Body),
                ..FetchParts::default()
            };
            let items = std::sync::Arc::new(items);
            for chunk in uids.chunks(CHUNK * 16) {
                // Per UID of the chunk: its sequence number and whether it
                // may skip the encoder (see `Encoded::push`).
                let rev1 = !self.enabled.imap4rev2;
                let view = self.view()?;
                let mut vi = 0;
                let seqs: Vec<(u32, bool)> = chunk
                    .iter()
                    .map(|&u| {
                        vi = seek(&view.uids, vi, u);
                        let seq = if view.uids.get(vi) == Some(&u) { vi as u32 + 1 } else { 0 };
                        (seq, !(rev1 && view.is_recent(u)))
                    })
                    .collect();
                let (uids, items) = (chunk.to_vec(), items.clone());
                let batch = account
                    .visit_records(mailbox, chunk.to_vec(), parts, Encoded::default(), move |batch, rec| {
                        if changed_since.is_some_and(|c| rec.modseq <= c) {
                            return;
                        }
                        let Ok(i) = uids.binary_search(&rec.uid) else { return };
                        let (seq, plain) = seqs[i];
                        if seq > 0 {
                            batch.push(seq, plain, &items, rec);
                        }
                    })
                    .await?;
                self.send_encoded(batch).await?;
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
    /// A message of at most [`INLINE_READ`] bytes is read on the session's
    /// thread: one small file read costs less than the blocking pool's two
    /// thread switches (`FETCH n BODY.PEEK[HEADER]` of a 20 KB message took
    /// 107 µs of server CPU with this read and the record's on the pool, and
    /// 27 µs with both on the session's thread; stop 12).
    pub(crate) async fn read_message(&self, rec: &MessageRecord) -> Result<Vec<u8>> {
        let blobs = self.shared.store.blobs().clone();
        let id = rec.blob.clone();
        let mut raw = rec.prefix.clone();
        let body = if rec.size <= INLINE_READ {
            blobs.read(&id)?
        } else {
            tokio::task::spawn_blocking(move || blobs.read(&id))
                .await
                .map_err(|e| ImapError::Internal(e.to_string()))??
        };
        raw.extend_from_slice(&body);
        Ok(raw)
    }
}

/// Messages up to this size are read without the blocking pool
/// ([`Session::read_message`]).
const INLINE_READ: u64 = 64 * 1024;

/// The index of the first element of ascending `sorted` that is ≥ `u`,
/// searching from `from` on (which must not be past it): O(1) when it is
/// one of the next two, as in a walk over a dense range.
fn seek(sorted: &[u32], from: usize, u: u32) -> usize {
    let rest = sorted.get(from..).unwrap_or_default();
    match rest.iter().take(2).position(|&x| x >= u) {
        Some(i) => from + i,
        None => from + rest.len().min(2) + rest.get(2..).map_or(0, |r| r.partition_point(|&x| x < u)),
    }
}

/// FETCH responses encoded ahead of the session ([`Encoded::push`]), with the
/// messages that must go through [`Session::fetch_data`] held aside in order.
#[derive(Default)]
struct Encoded {
    out: Vec<u8>,
    /// (offset in `out`, sequence number, values): sent at that point.
    aside: Vec<(usize, u32, Vec<FetchValue>)>,
}

impl Encoded {
    /// Items [`Encoded::push`] writes itself.
    fn can_encode(item: &FetchAttr) -> bool {
        use FetchAttr::*;
        matches!(item, Uid | Flags | ModSeq | InternalDate | Rfc822Size | Envelope | BodyStructure | Body)
    }

    /// Appends `* seq FETCH (...)` of `items` (all [`Encoded::can_encode`])
    /// for `rec`: byte for byte what the encoder writes for the same values
    /// (tested below), without building the response first. With FLAGS, a
    /// message that has keywords or is not `plain` (\Recent for this
    /// session) is held aside for [`Session::fetch_data`], which announces
    /// new keywords and adds \Recent.
    fn push(&mut self, seq: u32, plain: bool, items: &[FetchAttr], rec: &RecordRef<'_>) {
        use imap_proto::encoder::{fetch_value, uint};
        if (!plain || !rec.keywords.is_empty()) && items.contains(&FetchAttr::Flags) {
            self.aside.push((self.out.len(), seq, items.iter().map(|i| owned_value(i, rec)).collect()));
            return;
        }
        let out = &mut self.out;
        out.extend_from_slice(b"* ");
        uint(u64::from(seq), out);
        out.extend_from_slice(b" FETCH (");
        for (n, item) in items.iter().enumerate() {
            if n > 0 {
                out.push(b' ');
            }
            let (name, bytes): (&[u8], &[u8]) = match item {
                FetchAttr::Envelope => (b"ENVELOPE ", rec.envelope),
                FetchAttr::BodyStructure => (b"BODYSTRUCTURE ", rec.bodystructure),
                FetchAttr::Body => (b"BODY ", rec.body),
                FetchAttr::Uid => {
                    out.extend_from_slice(b"UID ");
                    uint(u64::from(rec.uid), out);
                    continue;
                }
                FetchAttr::ModSeq => {
                    out.extend_from_slice(b"MODSEQ (");
                    uint(rec.modseq, out);
                    out.push(b')');
                    continue;
                }
                FetchAttr::Flags => {
                    out.extend_from_slice(b"FLAGS (");
                    let mut first = true;
                    for (bit, name) in SYSTEM_FLAG_NAMES {
                        if rec.system_flags & bit != 0 {
                            if !first {
                                out.push(b' ');
                            }
                            out.extend_from_slice(name);
                            first = false;
                        }
                    }
                    out.push(b')');
                    continue;
                }
                scalar => {
                    fetch_value(&owned_value(scalar, rec), out);
                    continue;
                }
            };
            out.extend_from_slice(name);
            out.extend_from_slice(bytes);
        }
        out.extend_from_slice(b")\r\n");
    }
}

/// System flag bits in the order [`flags_to_wire`] lists them.
const SYSTEM_FLAG_NAMES: [(u8, &[u8]); 5] = [
    (Flags::SEEN, b"\\Seen"),
    (Flags::ANSWERED, b"\\Answered"),
    (Flags::FLAGGED, b"\\Flagged"),
    (Flags::DELETED, b"\\Deleted"),
    (Flags::DRAFT, b"\\Draft"),
];

/// The value of one [`Encoded::can_encode`] item of `rec`.
fn owned_value(item: &FetchAttr, rec: &RecordRef<'_>) -> FetchValue {
    match item {
        FetchAttr::Uid => FetchValue::Uid(rec.uid),
        FetchAttr::ModSeq => FetchValue::ModSeq(rec.modseq),
        FetchAttr::Flags => FetchValue::Flags(flags_to_wire(&rec.flags())),
        FetchAttr::InternalDate => {
            FetchValue::InternalDate(unix_to_datetime(rec.internal_date, rec.internal_date_zone))
        }
        FetchAttr::Rfc822Size => FetchValue::Rfc822Size(rec.size),
        FetchAttr::Envelope => FetchValue::Envelope(rec.envelope.to_vec()),
        FetchAttr::BodyStructure => FetchValue::BodyStructure(rec.bodystructure.to_vec()),
        _ => FetchValue::Body(rec.body.to_vec()),
    }
}

impl Session {
    /// Whether FLAGS of `uid` need nothing from the session (not \Recent
    /// for it under IMAP4rev1).
    fn is_plain(&self, uid: u32) -> bool {
        match &self.state {
            State::Selected { view, .. } => self.enabled.imap4rev2 || !view.is_recent(uid),
            _ => true,
        }
    }

    /// Queues the responses of `batch` in order and flushes past
    /// [`FLUSH_AT`].
    async fn send_encoded(&mut self, batch: Encoded) -> Result<()> {
        let Encoded { out, aside } = batch;
        if aside.is_empty() && self.conn.out.is_empty() {
            self.conn.out = out;
        } else {
            let mut at = 0;
            for (offset, seq, values) in aside {
                self.conn.out.extend_from_slice(&out[at..offset]);
                self.fetch_data(seq, values);
                at = offset;
            }
            self.conn.out.extend_from_slice(&out[at..]);
        }
        if self.conn.out.len() >= FLUSH_AT {
            self.conn.flush().await?;
        }
        Ok(())
    }
}

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

    /// `seek` finds what a binary search finds, from any cursor not past it.
    #[test]
    fn seek_is_a_forward_binary_search() {
        let sorted = [2, 3, 5, 8, 13, 21];
        for u in 0..25 {
            let want = sorted.partition_point(|&x| x < u);
            for from in 0..=want {
                assert_eq!(seek(&sorted, from, u), want, "{u} from {from}");
            }
        }
        assert_eq!(seek(&[], 0, 7), 0);
    }

    /// `Encoded::push` writes the encoder's bytes for every item it takes,
    /// in any order, and holds aside exactly the messages with keywords or
    /// not plain when FLAGS is asked for.
    #[test]
    fn encoded_fetch_is_what_the_encoder_writes() {
        use FetchAttr::{Body, BodyStructure, Envelope, Flags, InternalDate, ModSeq, Rfc822Size, Uid};
        let orders: [&[FetchAttr]; 8] = [
            &[Flags],
            &[Uid, Flags],
            &[Uid, Flags, ModSeq],
            &[ModSeq, Flags, Uid],
            &[Uid, ModSeq],
            &[Envelope],
            &[Uid, Envelope, Flags, InternalDate, Rfc822Size],
            &[BodyStructure, Body, ModSeq, InternalDate, Uid, Rfc822Size, Envelope, Flags],
        ];
        let envelope = b"(\"Mon, 7 Feb 1994 21:52:25 -0800\" \"Hi\" NIL NIL NIL NIL NIL NIL NIL \"<a@b>\")";
        let structure = b"(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"UTF-8\") NIL NIL \"7BIT\" 3 1 NIL NIL NIL NIL)";
        for items in orders {
            for system in 0..32u8 {
                for (seq, uid, modseq, date, zone, size) in [
                    (1, 1, 1, 0, 0, 0),
                    (7, 4_294_967_295, u64::MAX >> 1, 1_700_000_000, -480, 123_456_789),
                    (100_000, 123_456, 98_765_432_101, -86_401, 840, 1),
                ] {
                    for (keywords, plain) in [("", true), ("", false), ("$Forwarded Work", true)] {
                        let rec = RecordRef {
                            uid,
                            modseq,
                            system_flags: system,
                            keywords,
                            internal_date: date,
                            internal_date_zone: zone,
                            size,
                            envelope,
                            bodystructure: structure,
                            body: &structure[..structure.len() - 16],
                        };
                        let mut batch = Encoded::default();
                        batch.out.extend_from_slice(b"before");
                        batch.push(seq, plain, items, &rec);
                        let values: Vec<FetchValue> = items.iter().map(|i| owned_value(i, &rec)).collect();
                        let aside = items.contains(&Flags) && (!plain || !keywords.is_empty());
                        if aside {
                            assert_eq!(batch.out, b"before");
                            assert_eq!(batch.aside.len(), 1);
                            assert_eq!((batch.aside[0].0, batch.aside[0].1), (6, seq));
                            assert_eq!(batch.aside[0].2, values);
                            continue;
                        }
                        assert!(batch.aside.is_empty());
                        let mut slow = b"before".to_vec();
                        encoder::encode(&Response::Data(Data::Fetch { seq, items: values }), &mut slow);
                        assert_eq!(
                            String::from_utf8_lossy(&batch.out),
                            String::from_utf8_lossy(&slow),
                            "{items:?} {system}"
                        );
                    }
                }
            }
        }
    }
}
