//! The container's root filesystem: an overlay of the image layers with a writable upper layer in
//! the container's directory, mounted at creation and unmounted at removal.

use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::mount::{MntFlags, MsFlags};

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

pub fn mount_overlay(layers: &[PathBuf], dirs: &RootfsDirs) -> Result<(), RuntimeError> {
    let empty_lower = dirs.work.with_file_name("empty");
    for dir in [&dirs.rootfs, &dirs.upper, &dirs.work, &empty_lower] {
        std::fs::create_dir_all(dir)?;
    }
    let options = overlay_options(layers, dirs, &empty_lower);
    nix::mount::mount(
        Some("overlay"),
        &dirs.rootfs,
        Some("overlay"),
        MsFlags::empty(),
        Some(options.as_str()),
    )
    .map_err(|e| {
        RuntimeError::Failed(format!(
            "mounting the overlay at {}: {e}",
            dirs.rootfs.display()
        ))
    })
}

/// Unmounts the root filesystem; nothing mounted there is fine.
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
