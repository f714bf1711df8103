//! Unpacked layers, one directory per chain id: `<snapshots>/<chain id hex>/fs`. A layer is
//! unpacked into a temporary directory and renamed into place, so a crash never leaves half a layer.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::content::ContentStore;
use super::digest::{sha256_digest, sha256_hex, verify_digest};
use super::index::LayerRecord;
use super::layer_unpack::unpack_layer;
use crate::RuntimeError;

/// The chain ids of a stack of layers given bottom-first by diff id.
pub fn chain_ids(diff_ids: impl IntoIterator<Item = impl AsRef<str>>) -> Vec<String> {
    let mut chain: Vec<String> = Vec::new();
    for diff_id in diff_ids {
        let next = match chain.last() {
            None => diff_id.as_ref().to_string(),
            Some(parent) => sha256_digest(format!("{parent} {}", diff_id.as_ref()).as_bytes()),
        };
        chain.push(next);
    }
    chain
}

#[derive(Debug, Clone)]
pub struct Snapshots {
    root: PathBuf,
}

impl Snapshots {
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn snapshot_dir(&self, chain_id: &str) -> Result<PathBuf, RuntimeError> {
        Ok(self.root.join(sha256_hex(chain_id)?))
    }

    /// The unpacked directory of every layer, bottom first, unpacking those not yet unpacked.
    pub fn ensure_unpacked(
        &self,
        content: &ContentStore,
        layers: &[LayerRecord],
    ) -> Result<Vec<PathBuf>, RuntimeError> {
        let chains = chain_ids(layers.iter().map(|layer| &layer.diff_id));
        layers
            .iter()
            .zip(chains)
            .map(|(layer, chain_id)| self.ensure_layer(content, layer, &chain_id))
            .collect()
    }

    fn ensure_layer(
        &self,
        content: &ContentStore,
        layer: &LayerRecord,
        chain_id: &str,
    ) -> Result<PathBuf, RuntimeError> {
        let dir = self.snapshot_dir(chain_id)?;
        let fs_dir = dir.join("fs");
        if fs_dir.is_dir() {
            return Ok(fs_dir);
        }
        fs::create_dir_all(&self.root)?;
        let temp = self.root.join(format!(".unpack-{}", uuid::Uuid::new_v4()));
        let temp_fs = temp.join("fs");
        fs::create_dir_all(&temp_fs)?;
        let unpacked = content
            .open(&layer.digest)
            .and_then(|blob| unpack_layer(blob, &temp_fs))
            .and_then(|diff_id| {
                verify_digest(&layer.diff_id, &diff_id, &format!("layer {}", layer.digest))
            });
        if let Err(error) = unpacked {
            let _ = fs::remove_dir_all(&temp);
            return Err(error);
        }
        match fs::rename(&temp, &dir) {
            Ok(()) => Ok(fs_dir),
            // Someone else (another process) finished the same layer first.
            Err(_) if fs_dir.is_dir() => {
                fs::remove_dir_all(&temp)?;
                Ok(fs_dir)
            }
            Err(error) => {
                let _ = fs::remove_dir_all(&temp);
                Err(error.into())
            }
        }
    }

    /// Removes the snapshots of `chain_ids`.
    pub fn remove(&self, chain_ids: &[String]) -> Result<(), RuntimeError> {
        for chain_id in chain_ids {
            match fs::remove_dir_all(self.snapshot_dir(chain_id)?) {
                Ok(()) => {}
                Err(error) if error.kind() == io::ErrorKind::NotFound => {}
                Err(error) => return Err(error.into()),
            }
        }
        Ok(())
    }

    /// Deletes unpack directories a crash left behind.
    pub fn remove_leftovers(&self) -> Result<(), RuntimeError> {
        let entries = match fs::read_dir(&self.root) {
            Ok(entries) => entries,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(error) => return Err(error.into()),
        };
        for entry in entries {
            let entry = entry?;
            if entry.file_name().to_string_lossy().starts_with(".unpack-") {
                fs::remove_dir_all(entry.path())?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_ids_follow_the_oci_rule() {
        let a = format!("sha256:{}", "a".repeat(64));
        let b = format!("sha256:{}", "b".repeat(64));
        let chains = chain_ids([&a, &b]);
        assert_eq!(chains[0], a);
        assert_eq!(chains[1], sha256_digest(format!("{a} {b}").as_bytes()));
    }
}
