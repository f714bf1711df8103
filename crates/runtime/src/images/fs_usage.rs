//! Disk usage of directory trees, as `du` counts it: allocated bytes and inodes.

use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiskUsage {
    pub bytes: u64,
    pub inodes: u64,
}

/// Usage of everything under `root` (itself included), not following symlinks; a missing root
/// uses nothing, and entries that vanish while walking are skipped.
pub fn disk_usage(root: &Path) -> io::Result<DiskUsage> {
    let mut usage = DiskUsage::default();
    let mut pending = vec![root.to_path_buf()];
    while let Some(path) = pending.pop() {
        let meta = match fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
            Err(error) => return Err(error),
        };
        usage.bytes += meta.blocks() * 512;
        usage.inodes += 1;
        if meta.is_dir() {
            let entries = match fs::read_dir(&path) {
                Ok(entries) => entries,
                Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
                Err(error) => return Err(error),
            };
            for entry in entries {
                pending.push(entry?.path());
            }
        }
    }
    Ok(usage)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_files_and_directories() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("a")).unwrap();
        fs::write(dir.path().join("a/b"), vec![1u8; 10_000]).unwrap();
        let usage = disk_usage(dir.path()).unwrap();
        assert_eq!(usage.inodes, 3);
        assert!(usage.bytes >= 10_000);
        assert_eq!(
            disk_usage(&dir.path().join("missing")).unwrap(),
            DiskUsage::default()
        );
    }
}
