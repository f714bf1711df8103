//! What r8s remembers of a container, persisted as `record.json` in its directory at creation.

use std::path::{Path, PathBuf};

use k8s_cri::v1 as cri;

use crate::shim::state_files::write_atomically;
use crate::RuntimeError;

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ContainerRecord {
    pub id: String,
    pub sandbox_id: String,
    pub config: cri::ContainerConfig,
    /// The CRI `image_ref`: the image's first repo digest (`repo@sha256:...`) as containerd
    /// reports it, else its id.
    pub image_ref: String,
    /// The image's id (`sha256:<config digest>`); empty in records written before it existed.
    #[serde(default)]
    pub image_id: String,
    /// The full path of the CRI log (sandbox log directory + the config's log path); may be empty.
    pub log_path: PathBuf,
    /// `linux.cgroupsPath` of its spec.
    pub cgroups_path: String,
    /// Nanoseconds since the epoch.
    pub created_at: i64,
}

impl ContainerRecord {
    pub const FILE: &'static str = "record.json";

    pub fn save(&self, dir: &Path) -> Result<(), RuntimeError> {
        let document =
            serde_json::to_vec_pretty(self).map_err(|e| RuntimeError::Failed(e.to_string()))?;
        write_atomically(&dir.join(Self::FILE), &document)?;
        Ok(())
    }

    pub fn load(dir: &Path) -> Result<Self, RuntimeError> {
        let bytes = std::fs::read(dir.join(Self::FILE))?;
        serde_json::from_slice(&bytes).map_err(|e| {
            RuntimeError::Failed(format!("reading {}: {e}", dir.join(Self::FILE).display()))
        })
    }

    /// The image id, or the image ref for records that predate `image_id`.
    pub fn image_id_or_ref(&self) -> String {
        if self.image_id.is_empty() {
            self.image_ref.clone()
        } else {
            self.image_id.clone()
        }
    }

    pub fn name(&self) -> &str {
        self.config
            .metadata
            .as_ref()
            .map(|m| m.name.as_str())
            .unwrap_or_default()
    }

    pub fn attempt(&self) -> u32 {
        self.config
            .metadata
            .as_ref()
            .map(|m| m.attempt)
            .unwrap_or_default()
    }
}
