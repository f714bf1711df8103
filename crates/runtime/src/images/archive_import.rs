//! Imports image archives: OCI image layout tarballs and `docker save` tarballs (plain or gzip).

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;
use serde::Deserialize;

use super::content::ContentStore;
use super::digest::{sha256_digest, sha256_hex, verify_digest};
use super::index::ImageRecord;
use super::manifest::{
    parse_image_config, record_from_stored_manifest, select_platform, Descriptor, ManifestOrIndex,
    DOCKER_MANIFEST,
};
use super::reference::ImageReference;
use crate::RuntimeError;

const REF_NAME_ANNOTATION: &str = "org.opencontainers.image.ref.name";
const CONTAINERD_NAME_ANNOTATION: &str = "io.containerd.image.name";

/// Reads every image in the archive at `path` into `content`; returns their index records.
pub fn import_archive(
    content: &ContentStore,
    path: &Path,
) -> Result<Vec<ImageRecord>, RuntimeError> {
    let unpacked = content.ingest_path("archive")?;
    fs::create_dir_all(&unpacked)?;
    let result = unpack_archive(path, &unpacked).and_then(|()| {
        if unpacked.join("index.json").is_file() {
            import_oci_layout(content, &unpacked)
        } else if unpacked.join("manifest.json").is_file() {
            import_docker_archive(content, &unpacked)
        } else {
            Err(RuntimeError::InvalidArgument(format!(
                "{}: neither an OCI image layout nor a docker archive",
                path.display()
            )))
        }
    });
    let _ = fs::remove_dir_all(&unpacked);
    result
}

fn unpack_archive(path: &Path, dest: &Path) -> Result<(), RuntimeError> {
    let mut reader = BufReader::new(File::open(path)?);
    let gzip = reader.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    let stream: Box<dyn Read> = if gzip {
        Box::new(GzDecoder::new(reader))
    } else {
        Box::new(reader)
    };
    tar::Archive::new(stream).unpack(dest)?;
    Ok(())
}

fn layout_blob(layout: &Path, digest: &str) -> Result<PathBuf, RuntimeError> {
    Ok(layout
        .join("blobs")
        .join("sha256")
        .join(sha256_hex(digest)?))
}

fn read_layout_blob(layout: &Path, digest: &str) -> Result<Vec<u8>, RuntimeError> {
    let bytes = fs::read(layout_blob(layout, digest)?)
        .map_err(|e| RuntimeError::Failed(format!("archive blob {digest}: {e}")))?;
    verify_digest(digest, &sha256_digest(&bytes), "archive blob")?;
    Ok(bytes)
}

fn adopt_layout_blob(
    content: &ContentStore,
    layout: &Path,
    digest: &str,
) -> Result<(), RuntimeError> {
    if content.contains(digest) {
        return Ok(());
    }
    let source = layout_blob(layout, digest)?;
    // The unpacked archive sits in the ingest directory, so the blob can be renamed in.
    content.adopt_file(&source, Some(digest))?;
    Ok(())
}

fn import_oci_layout(
    content: &ContentStore,
    layout: &Path,
) -> Result<Vec<ImageRecord>, RuntimeError> {
    let index = ManifestOrIndex::parse(&fs::read(layout.join("index.json"))?)?;
    let mut records = Vec::new();
    for entry in &index.manifests {
        let names = entry_names(&entry.annotations)?;
        let manifest_digest = adopt_manifest(content, layout, entry)?;
        let repo_tags = names.iter().filter_map(ImageReference::tagged).collect();
        let repo_digests = names
            .iter()
            .map(|name| name.with_digest(&entry.digest))
            .collect();
        records.push(record_from_stored_manifest(
            content,
            &manifest_digest,
            repo_tags,
            repo_digests,
        )?);
    }
    Ok(records)
}

/// The image names an index entry carries; a bare tag in `ref.name` names no repository.
fn entry_names(
    annotations: &BTreeMap<String, String>,
) -> Result<Vec<ImageReference>, RuntimeError> {
    let name = annotations.get(CONTAINERD_NAME_ANNOTATION).or_else(|| {
        annotations
            .get(REF_NAME_ANNOTATION)
            .filter(|name| name.contains('/') || name.contains(':') || name.contains('@'))
    });
    name.map(|name| ImageReference::parse_normalized(name))
        .into_iter()
        .collect()
}

/// Stores the manifest `entry` points at (choosing this platform in an index) and its blobs.
fn adopt_manifest(
    content: &ContentStore,
    layout: &Path,
    entry: &Descriptor,
) -> Result<String, RuntimeError> {
    let bytes = read_layout_blob(layout, &entry.digest)?;
    let parsed = ManifestOrIndex::parse(&bytes)?;
    if parsed.is_index() {
        let chosen = select_platform(&parsed.manifests)?.clone();
        content.write_bytes(&bytes, Some(&entry.digest))?;
        return adopt_manifest(content, layout, &chosen);
    }
    let config = parsed
        .config
        .as_ref()
        .ok_or_else(|| RuntimeError::Failed(format!("manifest {} has no config", entry.digest)))?;
    adopt_layout_blob(content, layout, &config.digest)?;
    for layer in &parsed.layers {
        adopt_layout_blob(content, layout, &layer.digest)?;
    }
    content.write_bytes(&bytes, Some(&entry.digest))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DockerArchiveEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

fn archive_member(root: &Path, name: &str) -> Result<PathBuf, RuntimeError> {
    if Path::new(name)
        .components()
        .any(|c| !matches!(c, std::path::Component::Normal(_)))
    {
        return Err(RuntimeError::Failed(format!(
            "archive member {name:?} escapes the archive"
        )));
    }
    Ok(root.join(name))
}

fn import_docker_archive(
    content: &ContentStore,
    root: &Path,
) -> Result<Vec<ImageRecord>, RuntimeError> {
    let entries: Vec<DockerArchiveEntry> =
        serde_json::from_slice(&fs::read(root.join("manifest.json"))?).map_err(|e| {
            RuntimeError::Failed(format!("invalid docker archive manifest.json: {e}"))
        })?;
    let mut records = Vec::new();
    for entry in entries {
        let config_bytes = fs::read(archive_member(root, &entry.config)?)?;
        parse_image_config(&config_bytes)?;
        let config_digest = content.write_bytes(&config_bytes, None)?;
        let mut layers = Vec::new();
        for layer in &entry.layers {
            let path = archive_member(root, layer)?;
            let gzip = BufReader::new(File::open(&path)?)
                .fill_buf()?
                .starts_with(&[0x1f, 0x8b]);
            let size = fs::metadata(&path)?.len();
            let digest = content.write_reader(File::open(&path)?, None)?;
            let media_type = if gzip {
                "application/vnd.docker.image.rootfs.diff.tar.gzip"
            } else {
                "application/vnd.docker.image.rootfs.diff.tar"
            };
            layers
                .push(serde_json::json!({"mediaType": media_type, "size": size, "digest": digest}));
        }
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST,
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": config_bytes.len(),
                "digest": config_digest,
            },
            "layers": layers,
        });
        let manifest_bytes = serde_json::to_vec(&manifest)
            .map_err(|e| RuntimeError::Failed(format!("encoding a manifest: {e}")))?;
        let manifest_digest = content.write_bytes(&manifest_bytes, None)?;
        let repo_tags = entry
            .repo_tags
            .unwrap_or_default()
            .iter()
            .map(|tag| ImageReference::parse_normalized(tag).map(|r| r.to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        records.push(record_from_stored_manifest(
            content,
            &manifest_digest,
            repo_tags,
            Vec::new(),
        )?);
    }
    Ok(records)
}
