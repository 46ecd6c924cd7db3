//! Content-addressed message files: `DATA/blobs/ab/cdef…`, named by the
//! SHA-256 of the bytes as stored (CRLF line endings).
//!
//! A blob is written to `DATA/blobs/tmp/`, fsynced, renamed into place and
//! its directory fsynced, so a blob that [`BlobStore::write`] reported is on
//! disk before any database row refers to it (invariant 3). Writing the same
//! bytes twice yields one file. Temp files left by a crash and blobs no row
//! refers to are garbage to be collected later.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// SHA-256 of a blob's bytes, lower-case hex.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BlobId(pub String);

impl BlobId {
    /// The id of these bytes (without storing them).
    pub fn of(bytes: &[u8]) -> BlobId {
        BlobId(hex::encode(Sha256::digest(bytes)))
    }

    /// True if this is 64 lower-case hex digits (a well-formed SHA-256).
    pub fn is_valid(&self) -> bool {
        self.0.len() == 64 && self.0.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    }
}

/// The blob directory. Cheap to clone.
#[derive(Debug, Clone)]
pub struct BlobStore {
    root: PathBuf,
}

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl BlobStore {
    pub fn new(root: PathBuf) -> BlobStore {
        BlobStore { root }
    }

    /// The directory holding the blobs.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Writes bytes durably (temp file, fsync, rename, fsync of the directory)
    /// unless a blob with the same hash exists. Blocking: call from a blocking task.
    pub fn write(&self, bytes: &[u8]) -> Result<BlobId> {
        let id = BlobId::of(bytes);
        let target = self.path(&id);
        if target.exists() {
            return Ok(id);
        }
        let (tmp_path, mut tmp) = self.temp_file()?;
        let res = tmp.write_all(bytes).and_then(|()| tmp.sync_all());
        drop(tmp);
        if let Err(e) = res {
            let _ = fs::remove_file(&tmp_path);
            return Err(e.into());
        }
        self.install(&tmp_path, &target)?;
        Ok(id)
    }

    /// Same as [`write`](Self::write) for bytes already in a file (an APPEND
    /// literal spooled to disk). The source file is left in place.
    pub fn write_file(&self, source: &Path) -> Result<BlobId> {
        let mut src = File::open(source)?;
        let (tmp_path, mut tmp) = self.temp_file()?;
        let copied = (|| -> std::io::Result<BlobId> {
            let mut hasher = Sha256::new();
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = src.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
                tmp.write_all(&buf[..n])?;
            }
            tmp.sync_all()?;
            Ok(BlobId(hex::encode(hasher.finalize())))
        })();
        drop(tmp);
        let id = match copied {
            Ok(id) => id,
            Err(e) => {
                let _ = fs::remove_file(&tmp_path);
                return Err(e.into());
            }
        };
        let target = self.path(&id);
        if target.exists() {
            let _ = fs::remove_file(&tmp_path);
            return Ok(id);
        }
        self.install(&tmp_path, &target)?;
        Ok(id)
    }

    pub fn path(&self, id: &BlobId) -> PathBuf {
        if id.0.len() > 2 && id.0.is_char_boundary(2) {
            self.root.join(&id.0[..2]).join(&id.0[2..])
        } else {
            self.root.join(&id.0)
        }
    }

    /// Reads a whole blob. Blocking.
    pub fn read(&self, id: &BlobId) -> Result<Vec<u8>> {
        if !id.is_valid() {
            return Err(Error::InvalidName(format!("blob id {:?}", id.0)));
        }
        Ok(fs::read(self.path(id))?)
    }

    /// True if the blob's file exists.
    pub fn exists(&self, id: &BlobId) -> bool {
        id.is_valid() && self.path(id).exists()
    }

    fn temp_file(&self) -> Result<(PathBuf, File)> {
        let dir = self.root.join("tmp");
        fs::create_dir_all(&dir)?;
        loop {
            let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = dir.join(format!("{}.{}.{}", std::process::id(), n, crate::db::now()));
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(f) => return Ok((path, f)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Renames a fsynced temp file into place and fsyncs the directories it changed.
    fn install(&self, tmp_path: &Path, target: &Path) -> Result<()> {
        let res = (|| -> std::io::Result<()> {
            let shard = target.parent().unwrap_or(&self.root);
            if !shard.exists() {
                fs::create_dir_all(shard)?;
                sync_dir(&self.root)?;
            }
            fs::rename(tmp_path, target)?;
            sync_dir(shard)
        })();
        if res.is_err() {
            let _ = fs::remove_file(tmp_path);
        }
        Ok(res?)
    }
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_read_dedupe() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobStore::new(dir.path().join("blobs"));
        let a = blobs.write(b"hello\r\n").unwrap();
        let b = blobs.write(b"hello\r\n").unwrap();
        assert_eq!(a, b);
        assert!(a.is_valid());
        assert_eq!(blobs.read(&a).unwrap(), b"hello\r\n");
        let p = blobs.path(&a);
        assert_eq!(p.parent().unwrap().file_name().unwrap().to_str().unwrap(), &a.0[..2]);
        assert_eq!(p.file_name().unwrap().to_str().unwrap(), &a.0[2..]);
        // one file in the shard, nothing left in tmp
        assert_eq!(fs::read_dir(p.parent().unwrap()).unwrap().count(), 1);
        assert_eq!(fs::read_dir(dir.path().join("blobs/tmp")).unwrap().count(), 0);
    }

    #[test]
    fn write_file_streams_and_matches_write() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobStore::new(dir.path().join("blobs"));
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let src = dir.path().join("spool");
        fs::write(&src, &data).unwrap();
        let a = blobs.write_file(&src).unwrap();
        assert!(src.exists());
        assert_eq!(a, BlobId::of(&data));
        assert_eq!(blobs.read(&a).unwrap(), data);
        let b = blobs.write(&data).unwrap();
        assert_eq!(a, b);
        assert_eq!(fs::read_dir(dir.path().join("blobs/tmp")).unwrap().count(), 0);
    }

    #[test]
    fn read_rejects_bad_ids() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobStore::new(dir.path().join("blobs"));
        assert!(blobs.read(&BlobId("../../etc/passwd".into())).is_err());
        assert!(blobs.read(&BlobId("ab".into())).is_err());
    }
}
