//! Images: a content-addressed store, pulls from registries, archive imports, unpacked layers.
//!
//! Blobs live in `<content>/blobs/sha256/<hex>`; the image index (`<content>/images.json`) names
//! images by id and normalized reference; layers are unpacked once per chain id under
//! `<snapshots>/<chain id hex>/fs`. Another process (`r8s image import`) may add images to the
//! same directories while the runtime runs: the index is rewritten under a file lock and re-read
//! whenever a name is not found in memory.

mod archive_import;
pub mod busybox_image;
mod content;
mod digest;
mod fs_usage;
mod index;
mod layer_unpack;
mod manifest;
mod reference;
mod registry_pull;
mod snapshots;

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::UNIX_EPOCH;

use futures::future::{BoxFuture, FutureExt, Shared};

pub use fs_usage::DiskUsage;
pub use index::{ImageRecord, LayerRecord};
pub use reference::ImageReference;
pub use registry_pull::RegistryCredentials;

use content::ContentStore;
use index::{ArchiveStamp, ImageIndex, IndexFile};
use snapshots::{chain_ids, Snapshots};

use crate::{RuntimeError, RuntimeOptions, RuntimePaths};

/// Every image this node has, with its blobs and unpacked layers.
pub struct ImageStore {
    inner: Arc<StoreInner>,
    pulls: Mutex<HashMap<String, SharedPull>>,
}

/// A pull in flight, shared by everyone asking for the same reference; yields the image id.
type SharedPull = Shared<BoxFuture<'static, Result<String, PullFailure>>>;

/// A failed pull as every waiter gets it: whether the image does not exist, and why.
#[derive(Clone)]
enum PullFailure {
    NotFound(String),
    Failed(String),
}

impl From<RuntimeError> for PullFailure {
    fn from(error: RuntimeError) -> Self {
        match error {
            RuntimeError::NotFound(message) => Self::NotFound(message),
            other => Self::Failed(other.to_string()),
        }
    }
}

impl From<PullFailure> for RuntimeError {
    fn from(failure: PullFailure) -> Self {
        match failure {
            PullFailure::NotFound(message) => Self::NotFound(message),
            PullFailure::Failed(message) => Self::Failed(message),
        }
    }
}

/// An image ready to be a container's root filesystem.
#[derive(Debug, Clone)]
pub struct ResolvedImage {
    /// `sha256:<config digest>`: the CRI image id.
    pub id: String,
    /// Normalized references (`docker.io/library/busybox:latest`) naming this image.
    pub references: Vec<String>,
    /// Unpacked layer directories, bottom layer first (overlay lowerdirs, reversed).
    pub layers: Vec<PathBuf>,
    /// The image's config (Env, Entrypoint, Cmd, WorkingDir, User, ...).
    pub config: oci_spec::image::ImageConfiguration,
}

impl ResolvedImage {
    /// The CRI `image_ref` of a container created from `asked`: the repo digest of the repository
    /// it was asked by, else the first repo digest, else the image id.
    pub fn image_ref_for(&self, asked: &str) -> String {
        let repository = ImageReference::parse_normalized(asked)
            .map(|r| r.name())
            .unwrap_or_default();
        let digests = || self.references.iter().filter(|r| r.contains('@'));
        digests()
            .find(|r| r.split('@').next() == Some(repository.as_str()))
            .or_else(|| digests().next())
            .cloned()
            .unwrap_or_else(|| self.id.clone())
    }
}

struct StoreInner {
    content: ContentStore,
    snapshots: Snapshots,
    index_file: IndexFile,
    index: RwLock<ImageIndex>,
    insecure_registries: Vec<String>,
    /// One unpack at a time in this process: layers shared by images are unpacked once.
    unpacking: Mutex<()>,
}

impl ImageStore {
    /// Opens the store and imports the archives in `<root>/images` not imported before.
    pub async fn open(
        paths: &RuntimePaths,
        options: &RuntimeOptions,
    ) -> Result<Self, RuntimeError> {
        let content = ContentStore::new(paths.content());
        let snapshots = Snapshots::new(paths.snapshots());
        let index_file = IndexFile::new(&paths.content());
        let archives = paths.image_archives();
        let insecure_registries = options.insecure_registries.clone();
        let inner = blocking(move || {
            fs::create_dir_all(content.root())?;
            fs::create_dir_all(snapshots.root())?;
            remove_dir_contents(&content.ingest_dir())?;
            snapshots.remove_leftovers()?;
            let index = index_file.read()?;
            let inner = StoreInner {
                content,
                snapshots,
                index_file,
                index: RwLock::new(index),
                insecure_registries,
                unpacking: Mutex::new(()),
            };
            inner.import_archive_dir(&archives)?;
            Ok(inner)
        })
        .await?;
        Ok(Self {
            inner: Arc::new(inner),
            pulls: Mutex::new(HashMap::new()),
        })
    }

    /// Finds an image by id, digest reference or (normalized) name, with its layers unpacked.
    pub async fn resolve(&self, image: &str) -> Result<ResolvedImage, RuntimeError> {
        let inner = self.inner.clone();
        let image = image.to_string();
        blocking(move || {
            let record = inner
                .find(&image)?
                .ok_or_else(|| RuntimeError::NotFound(format!("image {image}")))?;
            let layers = {
                let _unpacking = inner
                    .unpacking
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                inner
                    .snapshots
                    .ensure_unpacked(&inner.content, &record.layers)?
            };
            let config = inner.config_of(&record)?;
            Ok(ResolvedImage {
                id: record.id.clone(),
                references: record
                    .repo_tags
                    .iter()
                    .chain(&record.repo_digests)
                    .cloned()
                    .collect(),
                layers,
                config,
            })
        })
        .await
    }

    /// Imports an OCI image layout or `docker save` tarball; returns the references it named.
    pub async fn import_archive(&self, path: &Path) -> Result<Vec<String>, RuntimeError> {
        let inner = self.inner.clone();
        let path = path.to_path_buf();
        blocking(move || inner.import_archive(&path)).await
    }

    /// Pulls `image` from its registry (once, however many ask at the same time); returns its id.
    pub async fn pull(
        &self,
        image: &str,
        credentials: RegistryCredentials,
    ) -> Result<String, RuntimeError> {
        let reference = ImageReference::parse_normalized(image)?;
        let key = reference.to_string();
        let pull = {
            let mut pulls = self
                .pulls
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            pulls
                .entry(key.clone())
                .or_insert_with(|| {
                    let inner = self.inner.clone();
                    async move {
                        inner
                            .pull_and_unpack(reference, credentials)
                            .await
                            .map_err(PullFailure::from)
                    }
                    .boxed()
                    .shared()
                })
                .clone()
        };
        let result = pull.await;
        self.pulls
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(&key);
        result.map_err(RuntimeError::from)
    }

    /// Every image, re-read from disk so images imported by another process show up.
    pub async fn list(&self) -> Result<Vec<ImageRecord>, RuntimeError> {
        let inner = self.inner.clone();
        blocking(move || Ok(inner.reload()?.images.into_values().collect())).await
    }

    /// The image `image` names, if there is one.
    pub async fn status(&self, image: &str) -> Result<Option<ImageRecord>, RuntimeError> {
        let inner = self.inner.clone();
        let image = image.to_string();
        blocking(move || inner.find(&image)).await
    }

    /// The config of an image in the index.
    pub async fn config(
        &self,
        record: &ImageRecord,
    ) -> Result<oci_spec::image::ImageConfiguration, RuntimeError> {
        let inner = self.inner.clone();
        let record = record.clone();
        blocking(move || inner.config_of(&record)).await
    }

    /// Removes an image with the blobs and unpacked layers no other image uses; removing an
    /// image that does not exist succeeds.
    pub async fn remove(&self, image: &str) -> Result<(), RuntimeError> {
        let inner = self.inner.clone();
        let image = image.to_string();
        blocking(move || inner.remove(&image)).await
    }

    /// Disk used by blobs and unpacked layers.
    pub async fn usage(&self) -> Result<DiskUsage, RuntimeError> {
        let inner = self.inner.clone();
        blocking(move || {
            let content = fs_usage::disk_usage(inner.content.root())?;
            let snapshots = fs_usage::disk_usage(inner.snapshots.root())?;
            Ok(DiskUsage {
                bytes: content.bytes + snapshots.bytes,
                inodes: content.inodes + snapshots.inodes,
            })
        })
        .await
    }

    /// Where unpacked layers live (the image filesystem's mount point for ImageFsInfo).
    pub fn snapshots_dir(&self) -> &Path {
        self.inner.snapshots.root()
    }
}

impl StoreInner {
    fn reload(&self) -> Result<ImageIndex, RuntimeError> {
        let index = self.index_file.read()?;
        *self
            .index
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = index.clone();
        Ok(index)
    }

    fn find(&self, query: &str) -> Result<Option<ImageRecord>, RuntimeError> {
        let in_memory = self
            .index
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .find(query)
            .cloned();
        match in_memory {
            Some(record) => Ok(Some(record)),
            None => Ok(self.reload()?.find(query).cloned()),
        }
    }

    fn update<T>(&self, change: impl FnOnce(&mut ImageIndex) -> T) -> Result<T, RuntimeError> {
        let (index, result) = self.index_file.update(change)?;
        *self
            .index
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = index;
        Ok(result)
    }

    fn config_of(
        &self,
        record: &ImageRecord,
    ) -> Result<oci_spec::image::ImageConfiguration, RuntimeError> {
        manifest::parse_image_config(&self.content.read_verified(&record.id)?)
    }

    fn import_archive(&self, path: &Path) -> Result<Vec<String>, RuntimeError> {
        let records = archive_import::import_archive(&self.content, path)?;
        let references = references_of(&records);
        self.update(|index| records.into_iter().for_each(|record| index.add(record)))?;
        Ok(references)
    }

    /// Imports each archive in `dir` whose size or modification time changed since its import.
    fn import_archive_dir(&self, dir: &Path) -> Result<(), RuntimeError> {
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(error) => return Err(error.into()),
        };
        for entry in entries {
            let path = entry?.path();
            let meta = fs::metadata(&path)?;
            if !meta.is_file() {
                continue;
            }
            let modified_ns = meta
                .modified()?
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos() as i128)
                .unwrap_or(0);
            let key = path.to_string_lossy().into_owned();
            let known = self
                .index
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .imported_archives
                .get(&key)
                .is_some_and(|stamp| stamp.size == meta.len() && stamp.modified_ns == modified_ns);
            if known {
                continue;
            }
            match archive_import::import_archive(&self.content, &path) {
                Ok(records) => {
                    let references = references_of(&records);
                    tracing::info!(archive = %path.display(), ?references, "imported image archive");
                    let stamp = ArchiveStamp {
                        size: meta.len(),
                        modified_ns,
                        references,
                    };
                    self.update(|index| {
                        records.into_iter().for_each(|record| index.add(record));
                        index.imported_archives.insert(key, stamp);
                    })?;
                }
                Err(error) => {
                    tracing::warn!(archive = %path.display(), %error, "cannot import image archive")
                }
            }
        }
        Ok(())
    }

    async fn pull_and_unpack(
        self: Arc<Self>,
        reference: ImageReference,
        credentials: RegistryCredentials,
    ) -> Result<String, RuntimeError> {
        tracing::info!(image = %reference, "pulling image");
        let record = registry_pull::pull_image(
            &self.content,
            &reference,
            &credentials,
            &self.insecure_registries,
        )
        .await?;
        let id = record.id.clone();
        blocking(move || {
            self.update(|index| index.add(record.clone()))?;
            let _unpacking = self
                .unpacking
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            self.snapshots
                .ensure_unpacked(&self.content, &record.layers)?;
            Ok(())
        })
        .await?;
        Ok(id)
    }

    fn remove(&self, image: &str) -> Result<(), RuntimeError> {
        let Some(record) = self.find(image)? else {
            return Ok(());
        };
        let still_used = self.update(|index| {
            index.remove(&record.id);
            let mut blobs = BTreeSet::new();
            let mut chains = BTreeSet::new();
            for other in index.images.values() {
                blobs.insert(other.id.clone());
                blobs.insert(other.manifest_digest.clone());
                blobs.extend(other.layers.iter().map(|layer| layer.digest.clone()));
                chains.extend(chain_ids(other.layers.iter().map(|layer| &layer.diff_id)));
            }
            (blobs, chains)
        })?;
        let (used_blobs, used_chains) = still_used;
        let blobs = [record.id.clone(), record.manifest_digest.clone()]
            .into_iter()
            .chain(record.layers.iter().map(|layer| layer.digest.clone()));
        for blob in blobs.filter(|blob| !used_blobs.contains(blob)) {
            self.content.remove(&blob)?;
        }
        let unused_chains: Vec<String> =
            chain_ids(record.layers.iter().map(|layer| &layer.diff_id))
                .into_iter()
                .filter(|chain| !used_chains.contains(chain))
                .collect();
        let _unpacking = self
            .unpacking
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        self.snapshots.remove(&unused_chains)
    }
}

fn references_of(records: &[ImageRecord]) -> Vec<String> {
    records
        .iter()
        .flat_map(|record| record.repo_tags.iter().chain(&record.repo_digests))
        .cloned()
        .collect()
}

fn remove_dir_contents(dir: &Path) -> Result<(), RuntimeError> {
    match fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(error.into()),
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, RuntimeError> + Send + 'static,
) -> Result<T, RuntimeError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| RuntimeError::Failed(format!("image store task: {error}")))?
}

#[cfg(test)]
mod tests;
