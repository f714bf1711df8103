//! Removing a pod's own cgroup (`<root>/<qos>/pod<uid>`) from every hierarchy once its
//! containers and sandboxes are gone: runc removes only the cgroups of the containers inside.

use std::path::Path;
use std::time::Duration;

/// Where the cgroup hierarchies are mounted.
pub const CGROUP_FS: &str = "/sys/fs/cgroup";

/// How often a cgroup that is still busy (a process not yet reaped) is tried again.
const TRIES: u32 = 10;
const RETRY_AFTER: Duration = Duration::from_millis(100);

/// Removes `parent` (a cgroupfs path such as `/kubepods/besteffort/pod<uid>`) under every
/// hierarchy of `cgroup_fs` (v1 controllers and the v2 tree); returns the paths still left.
pub async fn remove_pod_cgroup(cgroup_fs: &Path, parent: &str) -> Vec<String> {
    let relative = parent.trim_start_matches('/');
    if relative.is_empty() {
        return Vec::new();
    }
    let mut left = Vec::new();
    let Ok(hierarchies) = std::fs::read_dir(cgroup_fs) else {
        return left;
    };
    for hierarchy in hierarchies.flatten() {
        // cpu and cpuacct are often links to one `cpu,cpuacct` hierarchy: visit it once.
        if hierarchy
            .file_type()
            .map(|t| t.is_symlink())
            .unwrap_or(true)
        {
            continue;
        }
        let dir = hierarchy.path().join(relative);
        let mut tries = 0;
        loop {
            match std::fs::remove_dir(&dir) {
                Ok(()) => break,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
                Err(_) if tries + 1 < TRIES => {
                    tries += 1;
                    tokio::time::sleep(RETRY_AFTER).await;
                }
                Err(_) => {
                    left.push(dir.to_string_lossy().into_owned());
                    break;
                }
            }
        }
    }
    left
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn removes_the_pod_cgroup_in_every_hierarchy() {
        let fs = tempfile::tempdir().unwrap();
        for controller in ["memory", "pids", "unified"] {
            std::fs::create_dir_all(fs.path().join(controller).join("kubepods/besteffort/podu"))
                .unwrap();
        }
        // A hierarchy where something is still inside the pod cgroup keeps it.
        let busy = fs.path().join("cpu/kubepods/besteffort/podu/container");
        std::fs::create_dir_all(&busy).unwrap();
        let left = remove_pod_cgroup(fs.path(), "/kubepods/besteffort/podu").await;
        assert_eq!(
            left,
            vec![fs
                .path()
                .join("cpu/kubepods/besteffort/podu")
                .to_string_lossy()
                .into_owned()]
        );
        for controller in ["memory", "pids", "unified"] {
            assert!(!fs
                .path()
                .join(controller)
                .join("kubepods/besteffort/podu")
                .exists());
            assert!(fs
                .path()
                .join(controller)
                .join("kubepods/besteffort")
                .exists());
        }
        assert!(remove_pod_cgroup(fs.path(), "/").await.is_empty());
    }
}
