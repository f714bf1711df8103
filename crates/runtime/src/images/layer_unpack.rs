//! Unpacks one layer tar (plain or gzip) into a directory as an overlay lower layer: OCI
//! whiteouts become overlay whiteouts (`.wh.<name>` → char device 0:0, `.wh..wh..opq` →
//! `trusted.overlay.opaque=y`).

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::{Component, Path, PathBuf};

use flate2::read::GzDecoder;
use nix::sys::stat::{makedev, mknod, Mode, SFlag};

use super::digest::HashingReader;
use crate::RuntimeError;

const WHITEOUT_PREFIX: &str = ".wh.";
const OPAQUE_MARKER: &str = ".wh..wh..opq";
const OPAQUE_XATTR: &str = "trusted.overlay.opaque";

/// Unpacks `layer` into `dest` (which must exist) and returns the digest of the uncompressed tar.
pub fn unpack_layer(layer: impl Read, dest: &Path) -> Result<String, RuntimeError> {
    let mut buffered = BufReader::new(layer);
    let head = buffered.fill_buf()?;
    let decompressed: Box<dyn Read> = if head.starts_with(&[0x1f, 0x8b]) {
        Box::new(GzDecoder::new(buffered))
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return Err(RuntimeError::Failed(
            "zstd-compressed layers are not supported".into(),
        ));
    } else {
        Box::new(buffered)
    };
    let mut hashing = HashingReader::new(decompressed);
    unpack_entries(&mut hashing, dest)?;
    let (diff_id, _) = hashing.finish()?;
    Ok(diff_id)
}

fn unpack_entries(tar_stream: impl Read, dest: &Path) -> Result<(), RuntimeError> {
    let mut archive = tar::Archive::new(tar_stream);
    archive.set_preserve_permissions(true);
    archive.set_preserve_ownerships(true);
    archive.set_preserve_mtime(true);
    archive.set_unpack_xattrs(true);
    archive.set_overwrite(true);
    let dest_canonical = dest.canonicalize()?;
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.into_owned();
        let Some(file_name) = path
            .file_name()
            .and_then(|name| name.to_str())
            .map(str::to_owned)
        else {
            entry.unpack_in(dest)?;
            continue;
        };
        if file_name == OPAQUE_MARKER {
            let dir = contained_parent(&dest_canonical, &path)?;
            xattr::set(&dir, OPAQUE_XATTR, b"y")?;
        } else if let Some(hidden) = file_name.strip_prefix(WHITEOUT_PREFIX) {
            let dir = contained_parent(&dest_canonical, &path)?;
            let target = dir.join(hidden);
            if target.symlink_metadata().is_ok() {
                remove_any(&target)?;
            }
            mknod(&target, SFlag::S_IFCHR, Mode::empty(), makedev(0, 0)).map_err(|errno| {
                RuntimeError::Failed(format!("whiteout {}: {errno}", target.display()))
            })?;
        } else {
            entry.unpack_in(dest)?;
        }
    }
    Ok(())
}

/// The (created) parent directory of a whiteout entry, refusing paths that leave `dest`.
fn contained_parent(dest: &Path, entry_path: &Path) -> Result<PathBuf, RuntimeError> {
    let escape = || {
        RuntimeError::Failed(format!(
            "layer entry {} escapes the layer",
            entry_path.display()
        ))
    };
    let mut dir = dest.to_path_buf();
    if let Some(parent) = entry_path.parent() {
        for component in parent.components() {
            match component {
                Component::Normal(part) => dir.push(part),
                Component::CurDir => {}
                _ => return Err(escape()),
            }
        }
    }
    fs::create_dir_all(&dir)?;
    if !dir.canonicalize()?.starts_with(dest) {
        return Err(escape());
    }
    Ok(dir)
}

fn remove_any(path: &Path) -> Result<(), RuntimeError> {
    if path.symlink_metadata()?.is_dir() {
        fs::remove_dir_all(path)?;
    } else {
        fs::remove_file(path)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};

    use super::*;
    use crate::images::digest::sha256_digest;

    fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(kind);
        header.set_mode(mode);
        header.set_uid(1000);
        header.set_gid(1000);
        header.set_mtime(0);
        header.set_size(size);
        header
    }

    fn layer_tar() -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        let mut dir = header(tar::EntryType::Directory, 0o755, 0);
        builder.append_data(&mut dir, "etc/", &[][..]).unwrap();
        let mut file = header(tar::EntryType::Regular, 0o640, 5);
        builder
            .append_data(&mut file, "etc/hosts", &b"hello"[..])
            .unwrap();
        let mut link = header(tar::EntryType::Link, 0o640, 0);
        builder
            .append_link(&mut link, "etc/hosts.hard", "etc/hosts")
            .unwrap();
        let mut symlink = header(tar::EntryType::Symlink, 0o777, 0);
        builder
            .append_link(&mut symlink, "etc/hosts.soft", "hosts")
            .unwrap();
        let mut whiteout = header(tar::EntryType::Regular, 0o644, 0);
        builder
            .append_data(&mut whiteout, "etc/.wh.gone", &[][..])
            .unwrap();
        let mut opaque = header(tar::EntryType::Regular, 0o644, 0);
        builder
            .append_data(&mut opaque, "var/cache/.wh..wh..opq", &[][..])
            .unwrap();
        builder.into_inner().unwrap()
    }

    #[test]
    fn unpacks_files_links_and_whiteouts() {
        let dir = tempfile::tempdir().unwrap();
        let tar_bytes = layer_tar();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&tar_bytes).unwrap();
        let diff_id = unpack_layer(&gz.finish().unwrap()[..], dir.path()).unwrap();
        assert_eq!(diff_id, sha256_digest(&tar_bytes));

        let hosts = dir.path().join("etc/hosts");
        let meta = fs::metadata(&hosts).unwrap();
        assert_eq!(meta.permissions().mode() & 0o7777, 0o640);
        assert_eq!((meta.uid(), meta.gid()), (1000, 1000));
        assert_eq!(
            fs::metadata(dir.path().join("etc/hosts.hard"))
                .unwrap()
                .ino(),
            meta.ino()
        );
        assert_eq!(
            fs::read_link(dir.path().join("etc/hosts.soft")).unwrap(),
            Path::new("hosts")
        );

        let whiteout = fs::symlink_metadata(dir.path().join("etc/gone")).unwrap();
        assert!(whiteout.file_type().is_char_device());
        assert_eq!(whiteout.rdev(), 0);
        assert!(!dir.path().join("etc/.wh.gone").exists());
        let opaque = xattr::get(dir.path().join("var/cache"), OPAQUE_XATTR).unwrap();
        assert_eq!(opaque.as_deref(), Some(&b"y"[..]));
    }

    #[test]
    fn plain_tar_layers_unpack_too() {
        let dir = tempfile::tempdir().unwrap();
        let tar_bytes = layer_tar();
        assert_eq!(
            unpack_layer(&tar_bytes[..], dir.path()).unwrap(),
            sha256_digest(&tar_bytes)
        );
        assert!(dir.path().join("etc/hosts").is_file());
    }

    #[test]
    fn whiteouts_cannot_escape() {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            contained_parent(&dir.path().canonicalize().unwrap(), Path::new("../x/.wh.y")).is_err()
        );
    }
}
