//! Content-addressed blobs: `<content>/blobs/sha256/<hex>`, written through `<content>/ingest`.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use super::digest::{sha256_digest, sha256_hex, verify_digest, HashingReader};
use crate::RuntimeError;

/// Blobs named by their sha256 digest; a blob appears only once complete and verified.
#[derive(Debug, Clone)]
pub struct ContentStore {
    root: PathBuf,
}

impl ContentStore {
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Scratch space on the same filesystem as the blobs, so finished files can be renamed in.
    pub fn ingest_dir(&self) -> PathBuf {
        self.root.join("ingest")
    }

    /// A fresh unique path under the ingest directory.
    pub fn ingest_path(&self, purpose: &str) -> Result<PathBuf, RuntimeError> {
        fs::create_dir_all(self.ingest_dir())?;
        Ok(self
            .ingest_dir()
            .join(format!("{purpose}-{}", uuid::Uuid::new_v4())))
    }

    pub fn blob_path(&self, digest: &str) -> Result<PathBuf, RuntimeError> {
        Ok(self
            .root
            .join("blobs")
            .join("sha256")
            .join(sha256_hex(digest)?))
    }

    pub fn contains(&self, digest: &str) -> bool {
        self.blob_path(digest)
            .map(|path| path.is_file())
            .unwrap_or(false)
    }

    /// Stores `bytes`, checking them against `expected` when given; returns their digest.
    pub fn write_bytes(
        &self,
        bytes: &[u8],
        expected: Option<&str>,
    ) -> Result<String, RuntimeError> {
        let digest = sha256_digest(bytes);
        if let Some(expected) = expected {
            verify_digest(expected, &digest, "blob")?;
        }
        if self.contains(&digest) {
            return Ok(digest);
        }
        let temp = self.ingest_path("bytes")?;
        let mut file = File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        self.commit(&temp, &digest)?;
        Ok(digest)
    }

    /// Streams `reader` into the store, checking it against `expected` when given.
    pub fn write_reader(
        &self,
        reader: impl Read,
        expected: Option<&str>,
    ) -> Result<String, RuntimeError> {
        let temp = self.ingest_path("stream")?;
        let result = (|| {
            let mut hashing = HashingReader::new(reader);
            let mut file = File::create(&temp)?;
            io::copy(&mut hashing, &mut file)?;
            file.sync_all()?;
            let (digest, _) = hashing.finish()?;
            Ok::<_, RuntimeError>(digest)
        })();
        let digest = match result {
            Ok(digest) => digest,
            Err(error) => {
                let _ = fs::remove_file(&temp);
                return Err(error);
            }
        };
        self.commit_checked(&temp, &digest, expected)?;
        Ok(digest)
    }

    /// Moves a finished file (already under the ingest directory) into place after hashing it.
    pub fn adopt_file(&self, path: &Path, expected: Option<&str>) -> Result<String, RuntimeError> {
        let (digest, _) = HashingReader::new(File::open(path)?).finish()?;
        self.commit_checked(path, &digest, expected)?;
        Ok(digest)
    }

    fn commit_checked(
        &self,
        temp: &Path,
        digest: &str,
        expected: Option<&str>,
    ) -> Result<(), RuntimeError> {
        if let Some(expected) = expected {
            if let Err(error) = verify_digest(expected, digest, "blob") {
                let _ = fs::remove_file(temp);
                return Err(error);
            }
        }
        self.commit(temp, digest)
    }

    fn commit(&self, temp: &Path, digest: &str) -> Result<(), RuntimeError> {
        let target = self.blob_path(digest)?;
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::rename(temp, &target)?;
        Ok(())
    }

    /// Reads a whole blob, checking its digest (for manifests and configs, which are small).
    pub fn read_verified(&self, digest: &str) -> Result<Vec<u8>, RuntimeError> {
        let path = self.blob_path(digest)?;
        let bytes = fs::read(&path).map_err(|error| match error.kind() {
            io::ErrorKind::NotFound => RuntimeError::NotFound(format!("blob {digest}")),
            _ => error.into(),
        })?;
        verify_digest(digest, &sha256_digest(&bytes), "stored blob")?;
        Ok(bytes)
    }

    pub fn open(&self, digest: &str) -> Result<File, RuntimeError> {
        File::open(self.blob_path(digest)?).map_err(|error| match error.kind() {
            io::ErrorKind::NotFound => RuntimeError::NotFound(format!("blob {digest}")),
            _ => error.into(),
        })
    }

    pub fn remove(&self, digest: &str) -> Result<(), RuntimeError> {
        match fs::remove_file(self.blob_path(digest)?) {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(error.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_and_verifies_blobs() {
        let dir = tempfile::tempdir().unwrap();
        let store = ContentStore::new(dir.path().to_path_buf());
        let digest = store.write_bytes(b"abc", None).unwrap();
        assert!(store.contains(&digest));
        assert_eq!(store.read_verified(&digest).unwrap(), b"abc");
        assert_eq!(
            store.write_reader(&b"abc"[..], Some(&digest)).unwrap(),
            digest
        );
        let wrong = format!("sha256:{}", "0".repeat(64));
        assert!(store.write_reader(&b"abd"[..], Some(&wrong)).is_err());
        assert!(!store.contains(&wrong));
        assert_eq!(fs::read_dir(store.ingest_dir()).unwrap().count(), 0);
    }
}
