//! Files of a container's root filesystem read from the host before it exists: the overlay is
//! mounted only inside the container's mount namespace, so the merged view of the image layers
//! is worked out here, as overlayfs would show it.

use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

/// How layer unpacking marks a directory that hides the layers below it.
const OPAQUE_XATTR: &str = "trusted.overlay.opaque";

/// The text of `relative` (such as `etc/passwd`) in the merged view of `layers` (bottom first).
///
/// The topmost layer that has the path decides, unless a layer above it deletes the path or a
/// directory on it (a whiteout), or makes a directory on it opaque. Only a regular file is read:
/// a missing path, a directory or a symbolic link read as `None`.
pub fn read_merged(layers: &[PathBuf], relative: &str) -> Option<String> {
    let components: Vec<&str> = relative.split('/').filter(|c| !c.is_empty()).collect();
    'layers: for layer in layers.iter().rev() {
        let mut dir = layer.clone();
        let mut hides_below = false;
        for (i, component) in components.iter().enumerate() {
            let path = dir.join(component);
            let last = i + 1 == components.len();
            match std::fs::symlink_metadata(&path) {
                Err(_) if hides_below => return None,
                Err(_) => continue 'layers,
                Ok(meta) if is_whiteout(&meta) => return None,
                Ok(meta) if last => {
                    return meta
                        .is_file()
                        .then(|| std::fs::read_to_string(&path).ok())
                        .flatten()
                }
                Ok(meta) if !meta.is_dir() => return None,
                Ok(_) => hides_below |= is_opaque(&path),
            }
            dir = path;
        }
    }
    None
}

/// An overlay whiteout: a character device 0:0.
fn is_whiteout(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    meta.file_type().is_char_device() && meta.rdev() == 0
}

fn is_opaque(dir: &Path) -> bool {
    xattr::get(dir, OPAQUE_XATTR)
        .ok()
        .flatten()
        .is_some_and(|v| v == b"y")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn layer(root: &Path, name: &str, files: &[(&str, &str)]) -> PathBuf {
        let dir = root.join(name);
        for (path, text) in files {
            let path = dir.join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn whiteout(path: &Path) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        nix::sys::stat::mknod(
            path,
            nix::sys::stat::SFlag::S_IFCHR,
            nix::sys::stat::Mode::from_bits_truncate(0o644),
            0,
        )
        .unwrap();
    }

    #[test]
    fn the_topmost_layer_with_the_file_wins() {
        let root = tempfile::tempdir().unwrap();
        let base = layer(
            root.path(),
            "base",
            &[("etc/passwd", "base"), ("etc/group", "g")],
        );
        let top = layer(root.path(), "top", &[("etc/passwd", "top")]);
        let empty = layer(root.path(), "empty", &[]);
        let layers = [base, top, empty];
        assert_eq!(read_merged(&layers, "etc/passwd").as_deref(), Some("top"));
        assert_eq!(read_merged(&layers, "/etc/group").as_deref(), Some("g"));
        assert_eq!(read_merged(&layers, "etc/shadow"), None);
        assert_eq!(read_merged(&layers, "etc"), None);
        assert_eq!(read_merged(&[], "etc/passwd"), None);
    }

    #[test]
    fn whiteouts_and_opaque_directories_hide_lower_layers() {
        let root = tempfile::tempdir().unwrap();
        let base = layer(
            root.path(),
            "base",
            &[("etc/passwd", "base"), ("etc/group", "g")],
        );
        let deletes = layer(root.path(), "deletes", &[]);
        whiteout(&deletes.join("etc/passwd"));
        assert_eq!(
            read_merged(&[base.clone(), deletes.clone()], "etc/passwd"),
            None
        );
        assert_eq!(
            read_merged(&[base.clone(), deletes], "etc/group").as_deref(),
            Some("g")
        );

        let deletes_dir = layer(root.path(), "deletes-dir", &[]);
        whiteout(&deletes_dir.join("etc"));
        assert_eq!(read_merged(&[base.clone(), deletes_dir], "etc/group"), None);

        // Only a root can set trusted.* attributes, as the runtime (and these tests) run.
        let opaque = layer(root.path(), "opaque", &[("etc/hostname", "h")]);
        if xattr::set(opaque.join("etc"), OPAQUE_XATTR, b"y").is_ok() {
            let layers = [base.clone(), opaque];
            assert_eq!(read_merged(&layers, "etc/group"), None);
            assert_eq!(read_merged(&layers, "etc/hostname").as_deref(), Some("h"));
        }

        let file_over_dir = layer(root.path(), "file", &[("etc", "not a directory")]);
        assert_eq!(read_merged(&[base, file_over_dir], "etc/group"), None);
    }
}
