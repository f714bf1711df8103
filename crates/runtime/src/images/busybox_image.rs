//! Builds a small test image from a static busybox: an OCI image layout tarball with one layer.

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;
use std::process::Command;

use flate2::write::GzEncoder;

use super::digest::sha256_digest;
use super::manifest::{host_architecture, OCI_CONFIG, OCI_INDEX, OCI_LAYER_GZIP, OCI_MANIFEST};
use super::reference::ImageReference;
use crate::RuntimeError;

const PATH_ENV: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const PASSWD: &str =
    "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n";
const GROUP: &str = "root:x:0:\nnobody:x:65534:\n";
/// A fixed time so the same busybox always gives the same image id.
const CREATED: &str = "2024-01-01T00:00:00Z";

fn encode_failed(e: impl std::fmt::Display) -> RuntimeError {
    RuntimeError::Failed(format!("building the busybox image: {e}"))
}

/// Writes `out`: an OCI image layout tarball of `busybox` with its applets as symlinks in /bin,
/// named `reference` (normalized), whose default command is `sh`.
pub fn write_busybox_archive(
    busybox: &Path,
    out: &Path,
    reference: &str,
) -> Result<(), RuntimeError> {
    write_busybox_archive_with_cmd(busybox, out, reference, &["sh".to_string()])
}

/// Like [`write_busybox_archive`], with `cmd` as the image's default command (a sandbox image
/// for another runtime needs one that keeps running, e.g. `sleep infinity`).
pub fn write_busybox_archive_with_cmd(
    busybox: &Path,
    out: &Path,
    reference: &str,
    cmd: &[String],
) -> Result<(), RuntimeError> {
    let reference = ImageReference::parse_normalized(reference)?;
    let applets = list_applets(busybox)?;
    let layer_tar = build_layer(busybox, &applets)?;
    let diff_id = sha256_digest(&layer_tar);
    let mut gzip = GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzip.write_all(&layer_tar)?;
    let layer = gzip.finish()?;

    let arch = host_architecture();
    let config = serde_json::json!({
        "created": CREATED,
        "architecture": arch,
        "os": "linux",
        "config": {"Env": [PATH_ENV], "Cmd": cmd},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": CREATED, "created_by": "r8s write_busybox_archive"}],
    });
    let config = serde_json::to_vec(&config).map_err(encode_failed)?;
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": sha256_digest(&config), "size": config.len()},
        "layers": [{"mediaType": OCI_LAYER_GZIP, "digest": sha256_digest(&layer), "size": layer.len()}],
    });
    let manifest = serde_json::to_vec(&manifest).map_err(encode_failed)?;
    let mut annotations = serde_json::Map::new();
    annotations.insert(
        "io.containerd.image.name".into(),
        reference.to_string().into(),
    );
    if let Some(tag) = &reference.tag {
        annotations.insert(
            "org.opencontainers.image.ref.name".into(),
            tag.clone().into(),
        );
    }
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [{
            "mediaType": OCI_MANIFEST,
            "digest": sha256_digest(&manifest),
            "size": manifest.len(),
            "platform": {"architecture": arch, "os": "linux"},
            "annotations": annotations,
        }],
    });
    let index = serde_json::to_vec(&index).map_err(encode_failed)?;

    let temp = out.with_extension(format!("tmp-{}", uuid::Uuid::new_v4()));
    let written = (|| {
        let mut archive = tar::Builder::new(File::create(&temp)?);
        append_file(
            &mut archive,
            "oci-layout",
            br#"{"imageLayoutVersion":"1.0.0"}"#,
            0o644,
        )?;
        append_file(&mut archive, "index.json", &index, 0o644)?;
        for blob in [&config, &manifest, &layer] {
            let name = format!("blobs/sha256/{}", &sha256_digest(blob)["sha256:".len()..]);
            append_file(&mut archive, &name, blob, 0o644)?;
        }
        archive.into_inner()?.sync_all()?;
        fs::rename(&temp, out)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    Ok(written?)
}

fn list_applets(busybox: &Path) -> Result<Vec<String>, RuntimeError> {
    let output = Command::new(busybox).arg("--list").output()?;
    if !output.status.success() {
        return Err(RuntimeError::Failed(format!(
            "{} --list failed: {}",
            busybox.display(),
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::trim)
        .filter(|name| !name.is_empty() && *name != "busybox" && !name.contains('/'))
        .map(str::to_owned)
        .collect())
}

fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut header = tar::Header::new_ustar();
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    header.set_size(size);
    header
}

fn append_file(
    builder: &mut tar::Builder<impl Write>,
    name: &str,
    data: &[u8],
    mode: u32,
) -> std::io::Result<()> {
    let mut header = header(tar::EntryType::Regular, mode, data.len() as u64);
    builder.append_data(&mut header, name, data)
}

fn build_layer(busybox: &Path, applets: &[String]) -> Result<Vec<u8>, RuntimeError> {
    let mut builder = tar::Builder::new(Vec::new());
    let dirs = [
        ("bin", 0o755),
        ("dev", 0o755),
        ("etc", 0o755),
        ("home", 0o755),
        ("proc", 0o755),
        ("root", 0o700),
        ("sys", 0o755),
        ("tmp", 0o1777),
        ("usr", 0o755),
        ("usr/bin", 0o755),
        ("usr/sbin", 0o755),
        ("var", 0o755),
    ];
    for (dir, mode) in dirs {
        let mut header = header(tar::EntryType::Directory, mode, 0);
        builder.append_data(&mut header, format!("{dir}/"), &[][..])?;
    }
    append_file(&mut builder, "bin/busybox", &fs::read(busybox)?, 0o755)?;
    for applet in applets {
        let mut header = header(tar::EntryType::Symlink, 0o777, 0);
        builder.append_link(&mut header, format!("bin/{applet}"), "busybox")?;
    }
    append_file(&mut builder, "etc/passwd", PASSWD.as_bytes(), 0o644)?;
    append_file(&mut builder, "etc/group", GROUP.as_bytes(), 0o644)?;
    Ok(builder.into_inner()?)
}
