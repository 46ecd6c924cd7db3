//! PLACEHOLDER (replaced by the fetch branch at merge).
use imap_proto::SearchKey;
pub struct SearchContext<'a> { pub seq: u32, pub largest_seq: u32, pub largest_uid: u32, pub record: &'a store::MessageRecord, pub raw: Option<&'a [u8]>, pub now: i64 }
pub fn matches(_k: &SearchKey, _c: &SearchContext<'_>) -> bool { unimplemented!() }
pub fn needs_body(_k: &SearchKey) -> bool { unimplemented!() }
