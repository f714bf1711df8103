//! The container's root filesystem: an overlay of the image layers with a writable upper layer in
//! the container's directory. The OCI runtime mounts it as the spec's first mount, at `/`, inside
//! the container's own mount namespace; the host's mount table never holds it. (Each mount there
//! is copied into every new container's namespace and listed in every read of
//! /proc/self/mountinfo, which runc does several times per container: host-side overlays made
//! every container start slower as pods accumulated.) It goes away with the container's last
//! process; `rootfs` itself stays an empty directory, the spec's root path.

use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::mount::MntFlags;

use crate::RuntimeError;

pub struct RootfsDirs {
    pub rootfs: PathBuf,
    pub upper: PathBuf,
    pub work: PathBuf,
}

impl RootfsDirs {
    pub fn in_container_dir(dir: &Path) -> Self {
        Self {
            rootfs: dir.join("rootfs"),
            upper: dir.join("upper"),
            work: dir.join("work"),
        }
    }
}

/// The overlay's mount data; `layers` bottom first (overlay wants the top layer first).
pub fn overlay_options(layers: &[PathBuf], dirs: &RootfsDirs, empty_lower: &Path) -> String {
    let lower: Vec<String> = if layers.is_empty() {
        vec![empty_lower.display().to_string()]
    } else {
        layers
            .iter()
            .rev()
            .map(|l| l.display().to_string())
            .collect()
    };
    format!(
        "lowerdir={},upperdir={},workdir={}",
        lower.join(":"),
        dirs.upper.display(),
        dirs.work.display()
    )
}

/// Creates the container's overlay directories and returns the overlay's mount data.
pub fn prepare(layers: &[PathBuf], dirs: &RootfsDirs) -> Result<String, RuntimeError> {
    let empty_lower = dirs.work.with_file_name("empty");
    for dir in [&dirs.rootfs, &dirs.upper, &dirs.work, &empty_lower] {
        std::fs::create_dir_all(dir)?;
    }
    Ok(overlay_options(layers, dirs, &empty_lower))
}

/// Unmounts whatever is mounted on `rootfs` in the host's namespace; nothing is the usual case.
/// Containers created before the overlay moved into the container have it there, and a
/// container with bidirectional mount propagation can propagate it back.
pub fn unmount(rootfs: &Path) -> Result<(), RuntimeError> {
    loop {
        match nix::mount::umount2(rootfs, MntFlags::MNT_DETACH) {
            Ok(()) => continue,
            Err(Errno::EINVAL) | Err(Errno::ENOENT) => return Ok(()),
            Err(e) => {
                return Err(RuntimeError::Failed(format!(
                    "unmounting {}: {e}",
                    rootfs.display()
                )));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlay_lists_the_top_layer_first() {
        let dirs = RootfsDirs::in_container_dir(Path::new("/c/1"));
        let options = overlay_options(
            &["/l/bottom".into(), "/l/top".into()],
            &dirs,
            Path::new("/c/1/empty"),
        );
        assert_eq!(
            options,
            "lowerdir=/l/top:/l/bottom,upperdir=/c/1/upper,workdir=/c/1/work"
        );
        assert!(overlay_options(&[], &dirs, Path::new("/c/1/empty"))
            .starts_with("lowerdir=/c/1/empty,"));
    }
}
