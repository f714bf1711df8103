//! The stable path of a sandbox's network namespace: `/proc/<pause>/ns/net` bind-mounted onto
//! `<sandbox dir>/netns`.

use std::path::Path;

use nix::mount::{mount, umount2, MntFlags, MsFlags};

pub const NETNS_FILE: &str = "netns";

pub fn bind_netns(namespace: &Path, target: &Path) -> std::io::Result<()> {
    std::fs::File::create(target)?;
    mount(
        Some(namespace),
        target,
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    )
    .map_err(std::io::Error::from)
}

/// Unmounts (if mounted) and removes the file; nothing there is fine.
pub fn unbind_netns(target: &Path) -> std::io::Result<()> {
    match umount2(target, MntFlags::MNT_DETACH) {
        Ok(()) | Err(nix::errno::Errno::EINVAL) | Err(nix::errno::Errno::ENOENT) => {}
        Err(errno) => return Err(errno.into()),
    }
    match std::fs::remove_file(target) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Whether a namespace file is mounted at `target`: its namespace differs from the plain file's.
pub fn is_bound(target: &Path) -> bool {
    std::fs::read_to_string("/proc/self/mountinfo")
        .map(|mounts| {
            let target = target.to_string_lossy();
            mounts
                .lines()
                .any(|line| line.split(' ').nth(4) == Some(target.as_ref()))
        })
        .unwrap_or(false)
}
