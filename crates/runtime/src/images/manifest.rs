//! Image manifests and indexes (OCI and docker schema 2), read just far enough to find blobs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::content::ContentStore;
use super::index::{ImageRecord, LayerRecord};
use crate::RuntimeError;

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// The manifest media types a pull accepts.
pub const ACCEPTED_MANIFEST_TYPES: [&str; 4] = [
    OCI_MANIFEST,
    OCI_INDEX,
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    #[serde(default)]
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    pub architecture: String,
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

/// A manifest or an index: which one it is shows in which list is present.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestOrIndex {
    #[serde(default)]
    pub media_type: Option<String>,
    #[serde(default)]
    pub config: Option<Descriptor>,
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
}

impl ManifestOrIndex {
    pub fn parse(bytes: &[u8]) -> Result<Self, RuntimeError> {
        serde_json::from_slice(bytes)
            .map_err(|e| RuntimeError::Failed(format!("invalid manifest: {e}")))
    }

    pub fn is_index(&self) -> bool {
        matches!(
            self.media_type.as_deref(),
            Some(OCI_INDEX | DOCKER_MANIFEST_LIST)
        ) || (self.config.is_none() && !self.manifests.is_empty())
    }
}

/// The OCI architecture name of this machine.
pub fn host_architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    }
}

/// The index entry for linux on this machine's architecture.
pub fn select_platform(manifests: &[Descriptor]) -> Result<&Descriptor, RuntimeError> {
    let arch = host_architecture();
    manifests
        .iter()
        .find(|entry| {
            entry
                .platform
                .as_ref()
                .is_some_and(|p| p.os == "linux" && p.architecture == arch)
        })
        .ok_or_else(|| {
            RuntimeError::NotFound(format!("no manifest for linux/{arch} in the image index"))
        })
}

/// Builds the index record of an image whose manifest, config and layers are all in `content`.
pub fn record_from_stored_manifest(
    content: &ContentStore,
    manifest_digest: &str,
    repo_tags: Vec<String>,
    repo_digests: Vec<String>,
) -> Result<ImageRecord, RuntimeError> {
    let manifest = ManifestOrIndex::parse(&content.read_verified(manifest_digest)?)?;
    let config = manifest
        .config
        .as_ref()
        .ok_or_else(|| RuntimeError::Failed(format!("manifest {manifest_digest} has no config")))?;
    let config_bytes = content.read_verified(&config.digest)?;
    let image_config = parse_image_config(&config_bytes)?;
    let diff_ids = image_config.rootfs().diff_ids();
    if diff_ids.len() != manifest.layers.len() {
        return Err(RuntimeError::Failed(format!(
            "image {} has {} layers but its config lists {} diff ids",
            config.digest,
            manifest.layers.len(),
            diff_ids.len()
        )));
    }
    let layers: Vec<LayerRecord> = manifest
        .layers
        .iter()
        .zip(diff_ids)
        .map(|(layer, diff_id)| LayerRecord {
            digest: layer.digest.clone(),
            diff_id: diff_id.clone(),
            size: layer.size,
        })
        .collect();
    for layer in &layers {
        if !content.contains(&layer.digest) {
            return Err(RuntimeError::NotFound(format!(
                "layer blob {}",
                layer.digest
            )));
        }
    }
    Ok(ImageRecord {
        id: config.digest.clone(),
        manifest_digest: manifest_digest.to_string(),
        repo_tags,
        repo_digests,
        size: config.size + layers.iter().map(|layer| layer.size).sum::<u64>(),
        layers,
    })
}

pub fn parse_image_config(
    bytes: &[u8],
) -> Result<oci_spec::image::ImageConfiguration, RuntimeError> {
    oci_spec::image::ImageConfiguration::from_reader(bytes)
        .map_err(|e| RuntimeError::Failed(format!("invalid image config: {e}")))
}
