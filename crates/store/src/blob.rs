//! Content-addressed message files: `DATA/blobs/ab/cdef…`, named by the
//! SHA-256 of the bytes as stored (CRLF line endings).

use std::path::{Path, PathBuf};

use crate::Result;

/// SHA-256 of a blob's bytes, lower-case hex.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BlobId(pub String);

/// The blob directory. Cheap to clone.
#[derive(Debug, Clone)]
pub struct BlobStore {
    root: PathBuf,
}

impl BlobStore {
    pub fn new(root: PathBuf) -> BlobStore {
        BlobStore { root }
    }

    /// Writes bytes durably (temp file, fsync, rename, fsync of the directory)
    /// unless a blob with the same hash exists. Blocking: call from a blocking task.
    pub fn write(&self, bytes: &[u8]) -> Result<BlobId> {
        todo!()
    }

    /// Same as [`write`](Self::write) for bytes already in a file (an APPEND
    /// literal spooled to disk). The source file is left in place.
    pub fn write_file(&self, source: &Path) -> Result<BlobId> {
        todo!()
    }

    pub fn path(&self, id: &BlobId) -> PathBuf {
        todo!()
    }

    /// Reads a whole blob. Blocking.
    pub fn read(&self, id: &BlobId) -> Result<Vec<u8>> {
        todo!()
    }
}
