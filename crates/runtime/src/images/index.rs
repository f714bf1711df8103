//! The image index: which images exist and the names they go by, in one JSON file rewritten
//! atomically under a file lock (so `r8s image import` can add images while the runtime runs).

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};

use super::reference::{is_full_hex_id, ImageReference};
use crate::RuntimeError;

/// One image: its id (config digest), manifest, names and layers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageRecord {
    /// `sha256:<config digest hex>`.
    pub id: String,
    pub manifest_digest: String,
    /// Normalized `name:tag` references.
    pub repo_tags: Vec<String>,
    /// Normalized `name@digest` references.
    pub repo_digests: Vec<String>,
    /// Bottom layer first.
    pub layers: Vec<LayerRecord>,
    /// Config plus compressed layers, in bytes.
    pub size: u64,
}

/// One layer: the blob as stored and the digest of its uncompressed tar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LayerRecord {
    pub digest: String,
    pub diff_id: String,
    pub size: u64,
}

/// An archive already imported, recognized by its size and modification time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArchiveStamp {
    pub size: u64,
    pub modified_ns: i128,
    pub references: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageIndex {
    pub images: BTreeMap<String, ImageRecord>,
    #[serde(default)]
    pub imported_archives: BTreeMap<String, ArchiveStamp>,
}

impl ImageIndex {
    /// Adds or merges an image; names it takes are taken away from any other image.
    pub fn add(&mut self, record: ImageRecord) {
        for other in self
            .images
            .values_mut()
            .filter(|other| other.id != record.id)
        {
            other
                .repo_tags
                .retain(|tag| !record.repo_tags.contains(tag));
        }
        match self.images.get_mut(&record.id) {
            Some(existing) => {
                for tag in record.repo_tags {
                    if !existing.repo_tags.contains(&tag) {
                        existing.repo_tags.push(tag);
                    }
                }
                for digest in record.repo_digests {
                    if !existing.repo_digests.contains(&digest) {
                        existing.repo_digests.push(digest);
                    }
                }
                existing.manifest_digest = record.manifest_digest;
                existing.layers = record.layers;
                existing.size = record.size;
            }
            None => {
                self.images.insert(record.id.clone(), record);
            }
        }
    }

    /// Finds an image by id (`sha256:<hex>` or `<hex>`), by reference, or by a unique id prefix.
    pub fn find(&self, query: &str) -> Option<&ImageRecord> {
        let bare = query.strip_prefix("sha256:").unwrap_or(query);
        if is_full_hex_id(bare) {
            return self.images.get(&format!("sha256:{bare}"));
        }
        if let Ok(reference) = ImageReference::parse_normalized(query) {
            let by_digest = reference.digested();
            let by_tag = reference.tagged();
            let found = self.images.values().find(|image| match &by_digest {
                Some(digested) => image.repo_digests.contains(digested),
                None => by_tag
                    .as_ref()
                    .is_some_and(|tagged| image.repo_tags.contains(tagged)),
            });
            if found.is_some() {
                return found;
            }
        }
        if !bare.is_empty() && bare.chars().all(|c| c.is_ascii_hexdigit()) {
            let mut matching = self.images.values().filter(|image| {
                image
                    .id
                    .strip_prefix("sha256:")
                    .is_some_and(|hex| hex.starts_with(bare))
            });
            let first = matching.next();
            if matching.next().is_none() {
                return first;
            }
        }
        None
    }

    pub fn remove(&mut self, id: &str) -> Option<ImageRecord> {
        self.images.remove(id)
    }
}

/// The index file and the lock that serializes its read-modify-write cycles across processes.
#[derive(Debug, Clone)]
pub struct IndexFile {
    path: PathBuf,
    lock_path: PathBuf,
}

impl IndexFile {
    pub fn new(content_dir: &Path) -> Self {
        Self {
            path: content_dir.join("images.json"),
            lock_path: content_dir.join("images.lock"),
        }
    }

    pub fn read(&self) -> Result<ImageIndex, RuntimeError> {
        match fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                RuntimeError::Failed(format!("corrupt image index {}: {e}", self.path.display()))
            }),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(ImageIndex::default()),
            Err(error) => Err(error.into()),
        }
    }

    /// Locks, re-reads, applies `change`, writes back atomically; returns the new index and
    /// whatever `change` returned.
    pub fn update<T>(
        &self,
        change: impl FnOnce(&mut ImageIndex) -> T,
    ) -> Result<(ImageIndex, T), RuntimeError> {
        if let Some(parent) = self.path.parent() {
            fs::create_dir_all(parent)?;
        }
        let lock_file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&self.lock_path)?;
        let _lock = Flock::lock(lock_file, FlockArg::LockExclusive).map_err(|(_, errno)| {
            RuntimeError::Failed(format!("locking the image index: {errno}"))
        })?;
        let mut index = self.read()?;
        let result = change(&mut index);
        self.write(&index)?;
        Ok((index, result))
    }

    fn write(&self, index: &ImageIndex) -> Result<(), RuntimeError> {
        let bytes = serde_json::to_vec_pretty(index)
            .map_err(|e| RuntimeError::Failed(format!("encoding the image index: {e}")))?;
        let temp = self
            .path
            .with_extension(format!("json.tmp-{}", uuid::Uuid::new_v4()));
        let mut file = File::create(&temp)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        fs::rename(&temp, &self.path)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(hex_char: char, tags: &[&str]) -> ImageRecord {
        let id = format!("sha256:{}", hex_char.to_string().repeat(64));
        ImageRecord {
            id,
            manifest_digest: format!("sha256:{}", "f".repeat(64)),
            repo_tags: tags.iter().map(|t| t.to_string()).collect(),
            repo_digests: vec![format!(
                "docker.io/library/busybox@sha256:{}",
                "f".repeat(64)
            )],
            layers: Vec::new(),
            size: 1,
        }
    }

    #[test]
    fn finds_by_id_reference_and_prefix() {
        let mut index = ImageIndex::default();
        index.add(record('a', &["docker.io/library/busybox:latest"]));
        index.add(record('b', &["docker.io/foo/bar:1"]));
        let a = format!("sha256:{}", "a".repeat(64));
        assert_eq!(index.find(&a).unwrap().id, a);
        assert_eq!(index.find(&"a".repeat(64)).unwrap().id, a);
        assert_eq!(index.find("aaaa").unwrap().id, a);
        assert_eq!(index.find("busybox").unwrap().id, a);
        assert_eq!(
            index.find("docker.io/library/busybox:latest").unwrap().id,
            a
        );
        assert!(index.find("foo/bar").is_none());
        assert!(index.find("foo/bar:1").is_some());
        assert!(index
            .find(&format!("busybox@sha256:{}", "f".repeat(64)))
            .is_some());
    }

    #[test]
    fn a_new_image_takes_over_its_tags() {
        let mut index = ImageIndex::default();
        index.add(record(
            'a',
            &[
                "docker.io/library/busybox:latest",
                "docker.io/library/busybox:1",
            ],
        ));
        index.add(record('b', &["docker.io/library/busybox:latest"]));
        assert_eq!(
            index.find("busybox").unwrap().id,
            format!("sha256:{}", "b".repeat(64))
        );
        assert_eq!(
            index.find("busybox:1").unwrap().repo_tags,
            vec!["docker.io/library/busybox:1".to_string()]
        );
    }

    #[test]
    fn updates_survive_a_reread() {
        let dir = tempfile::tempdir().unwrap();
        let file = IndexFile::new(dir.path());
        file.update(|index| index.add(record('a', &["docker.io/library/busybox:latest"])))
            .unwrap();
        assert!(file.read().unwrap().find("busybox").is_some());
    }
}
