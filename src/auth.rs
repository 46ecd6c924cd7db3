//! PLACEHOLDER (replaced by the admin branch at merge).
pub fn authenticate(_s: &store::Store, _u: &str, _p: &str) -> Option<store::AccountId> { unimplemented!() }
pub fn decode_plain(_r: &[u8]) -> Option<(String, String, String)> { unimplemented!() }
