//! The mount effects volumes need (tmpfs for memory-backed volumes), behind a trait with a
//! recording fake.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Mounts and unmounts filesystems for volumes.
pub trait Mounter: Send + Sync {
    /// Mounts a tmpfs on `target` (`size_bytes`: its size limit, `None`: the kernel default).
    fn mount_tmpfs(&self, target: &Path, size_bytes: Option<u64>) -> io::Result<()>;
    /// Detaches whatever is mounted on `target`.
    fn unmount(&self, target: &Path) -> io::Result<()>;
    /// Whether something is mounted exactly on `target`.
    fn is_mount_point(&self, target: &Path) -> bool;
    /// Every mount point under `dir` (deepest first).
    fn mount_points_under(&self, dir: &Path) -> Vec<PathBuf>;
}

/// Real mounts through mount(2).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemMounter;

impl Mounter for SystemMounter {
    fn mount_tmpfs(&self, target: &Path, size_bytes: Option<u64>) -> io::Result<()> {
        let options = match size_bytes {
            Some(size) => format!("mode=0777,size={size}"),
            None => "mode=0777".to_string(),
        };
        nix::mount::mount(
            Some("tmpfs"),
            target,
            Some("tmpfs"),
            nix::mount::MsFlags::empty(),
            Some(options.as_str()),
        )
        .map_err(io::Error::from)
    }

    fn unmount(&self, target: &Path) -> io::Result<()> {
        nix::mount::umount2(target, nix::mount::MntFlags::MNT_DETACH).map_err(io::Error::from)
    }

    fn is_mount_point(&self, target: &Path) -> bool {
        mount_points().iter().any(|p| p == target)
    }

    fn mount_points_under(&self, dir: &Path) -> Vec<PathBuf> {
        let mut points: Vec<PathBuf> = mount_points()
            .into_iter()
            .filter(|p| p.starts_with(dir))
            .collect();
        points.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
        points
    }
}

/// Mount points from /proc/self/mountinfo (field 5, octal escapes decoded).
fn mount_points() -> Vec<PathBuf> {
    let Ok(text) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(|field| PathBuf::from(unescape_octal(field)))
        .collect()
}

fn unescape_octal(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 3 < bytes.len() {
            let digits = std::str::from_utf8(&bytes[i + 1..i + 4]).unwrap_or("x");
            if let Ok(value) = u8::from_str_radix(digits, 8) {
                out.push(value);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One recorded mount operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountCall {
    Tmpfs {
        target: PathBuf,
        size_bytes: Option<u64>,
    },
    Unmount {
        target: PathBuf,
    },
}

/// A fake that records calls and remembers what it "mounted".
#[derive(Debug, Default)]
pub struct RecordingMounter {
    pub calls: Mutex<Vec<MountCall>>,
    mounted: Mutex<Vec<PathBuf>>,
}

impl RecordingMounter {
    pub fn calls(&self) -> Vec<MountCall> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

impl Mounter for RecordingMounter {
    fn mount_tmpfs(&self, target: &Path, size_bytes: Option<u64>) -> io::Result<()> {
        if let Ok(mut calls) = self.calls.lock() {
            calls.push(MountCall::Tmpfs {
                target: target.to_path_buf(),
                size_bytes,
            });
        }
        if let Ok(mut mounted) = self.mounted.lock() {
            mounted.push(target.to_path_buf());
        }
        Ok(())
    }

    fn unmount(&self, target: &Path) -> io::Result<()> {
        if let Ok(mut calls) = self.calls.lock() {
            calls.push(MountCall::Unmount {
                target: target.to_path_buf(),
            });
        }
        if let Ok(mut mounted) = self.mounted.lock() {
            mounted.retain(|p| p != target);
        }
        Ok(())
    }

    fn is_mount_point(&self, target: &Path) -> bool {
        self.mounted
            .lock()
            .map(|m| m.iter().any(|p| p == target))
            .unwrap_or(false)
    }

    fn mount_points_under(&self, dir: &Path) -> Vec<PathBuf> {
        self.mounted
            .lock()
            .map(|m| m.iter().filter(|p| p.starts_with(dir)).cloned().collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_escapes_are_decoded() {
        assert_eq!(unescape_octal("/a\\040b"), "/a b");
        assert_eq!(unescape_octal("/plain"), "/plain");
    }

    #[test]
    fn real_tmpfs_mount_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("mem");
        std::fs::create_dir(&target).unwrap();
        let mounter = SystemMounter;
        if mounter.mount_tmpfs(&target, Some(1 << 20)).is_err() {
            return; // not root: nothing to check
        }
        assert!(mounter.is_mount_point(&target));
        assert_eq!(
            mounter.mount_points_under(dir.path()),
            std::slice::from_ref(&target)
        );
        mounter.unmount(&target).unwrap();
        assert!(!mounter.is_mount_point(&target));
    }
}
