//! `securityContext.fsGroup`: the volume's files get the group, group access and setgid dirs
//! (upstream's `SetVolumeOwnership`).

use std::fs;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

/// Gives `gid` ownership of everything under `dir` (symlinks skipped), adding group read (and
/// write unless `read_only`) to files and setgid + group exec to directories.
pub fn apply_fs_group(dir: &Path, gid: u32, read_only: bool) -> io::Result<()> {
    let metadata = fs::symlink_metadata(dir)?;
    if metadata.file_type().is_symlink() {
        return Ok(());
    }
    if metadata.gid() != gid {
        nix::unistd::chown(dir, None, Some(nix::unistd::Gid::from_raw(gid)))
            .map_err(io::Error::from)?;
    }
    let mut mask = if read_only { 0o440 } else { 0o660 };
    if metadata.is_dir() {
        mask |= 0o2000 | 0o110;
    }
    let mode = metadata.permissions().mode() & 0o7777;
    if mode | mask != mode {
        fs::set_permissions(dir, fs::Permissions::from_mode(mode | mask))?;
    }
    if metadata.is_dir() {
        for entry in fs::read_dir(dir)? {
            apply_fs_group(&entry?.path(), gid, read_only)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_and_setgid() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        fs::write(&file, "x").unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(0o600)).unwrap();
        std::os::unix::fs::symlink("f", dir.path().join("link")).unwrap();
        if apply_fs_group(dir.path(), 2345, false).is_err() {
            return; // not root
        }
        let meta = fs::metadata(&file).unwrap();
        assert_eq!(meta.gid(), 2345);
        assert_eq!(meta.permissions().mode() & 0o777, 0o660);
        let dir_mode = fs::metadata(dir.path()).unwrap().permissions().mode();
        assert_ne!(dir_mode & 0o2000, 0);
    }
}
