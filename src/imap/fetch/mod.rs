//! PLACEHOLDER (replaced by the fetch branch at merge).
use imap_proto::Section;
pub fn compute_meta(_raw: &[u8]) -> store::MessageMeta { unimplemented!() }
pub fn section(_raw: &[u8], _s: &Section) -> Option<Vec<u8>> { unimplemented!() }
pub fn partial(_d: &[u8], _o: u32, _c: u32) -> Vec<u8> { unimplemented!() }
#[derive(Debug)]
pub struct BinaryError;
pub fn binary(_raw: &[u8], _p: &[u32]) -> Result<Option<Vec<u8>>, BinaryError> { unimplemented!() }
