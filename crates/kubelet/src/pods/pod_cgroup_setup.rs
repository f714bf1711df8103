//! Creating a pod's own cgroup (`<root>/<qos>/pod<uid>`, `<root>/pod<uid>` for Guaranteed) with
//! its limits before the sandbox starts, as upstream's pod container manager does on cgroupfs.
//! runc then creates the containers' cgroups inside it.

use std::path::Path;

use k8s_openapi::api::core::v1::Pod;

use super::pod_cgroup::CGROUP_FS;
use super::pod_cgroup_limits::{pod_cgroup_limits, PodCgroupLimits};
use super::qos::{cgroup_parent, qos_class};
use crate::KubeletOptions;

/// BestEffort pods share the least CPU weight (upstream's MinShares on the QoS cgroup).
const BEST_EFFORT_SHARES: &str = "2";

/// Creates the cgroup of `pod` under `/sys/fs/cgroup` with its QoS class's limits; a failure is
/// logged (the containers still run, in cgroups runc makes without the pod's limits).
pub fn create_for_pod(options: &KubeletOptions, pod: &Pod, uid: &str) {
    let qos = qos_class(pod);
    let parent = cgroup_parent(&options.cgroup_root, qos, uid);
    let limits = pod_cgroup_limits(pod, qos);
    if let Err(e) = create_pod_cgroup(Path::new(CGROUP_FS), &parent, &limits) {
        tracing::warn!(error = %e, cgroup = %parent, "creating the pod cgroup");
    }
}

/// Creates the pod cgroup under `cgroup_fs` (v1 hierarchies, or a v2 tree when
/// `cgroup.controllers` is at its root) and writes its limits.
pub fn create_pod_cgroup(
    cgroup_fs: &Path,
    parent: &str,
    limits: &PodCgroupLimits,
) -> std::io::Result<()> {
    let relative = parent.trim_matches('/');
    if relative.is_empty() {
        return Ok(());
    }
    if cgroup_fs.join("cgroup.controllers").exists() {
        return create_v2(cgroup_fs, relative, limits);
    }
    let cpu = cgroup_fs.join("cpu");
    if cpu.is_dir() {
        ensure_qos_parents(&cpu, relative)?;
        let dir = cpu.join(relative);
        std::fs::create_dir_all(&dir)?;
        write(&dir, "cpu.shares", &limits.cpu_shares.to_string())?;
        if let Some(quota) = limits.cpu_quota {
            write(&dir, "cpu.cfs_period_us", &limits.cpu_period.to_string())?;
            write(&dir, "cpu.cfs_quota_us", &quota.to_string())?;
        }
    }
    let memory = cgroup_fs.join("memory");
    if memory.is_dir() {
        let dir = memory.join(relative);
        std::fs::create_dir_all(&dir)?;
        if let Some(limit) = limits.memory_limit {
            write(&dir, "memory.limit_in_bytes", &limit.to_string())?;
        }
    }
    let pids = cgroup_fs.join("pids");
    if pids.is_dir() {
        std::fs::create_dir_all(pids.join(relative))?;
    }
    Ok(())
}

/// The besteffort QoS cgroup gets the minimal CPU shares when it is first made.
fn ensure_qos_parents(cpu: &Path, relative: &str) -> std::io::Result<()> {
    let Some((qos_parent, _)) = relative.rsplit_once('/') else {
        return Ok(());
    };
    let dir = cpu.join(qos_parent);
    if qos_parent.ends_with("besteffort") && !dir.exists() {
        std::fs::create_dir_all(&dir)?;
        write(&dir, "cpu.shares", BEST_EFFORT_SHARES)?;
    }
    Ok(())
}

fn create_v2(cgroup_fs: &Path, relative: &str, limits: &PodCgroupLimits) -> std::io::Result<()> {
    let dir = cgroup_fs.join(relative);
    std::fs::create_dir_all(&dir)?;
    // Controllers must be enabled on every ancestor for the limits' files to exist.
    let mut ancestor = cgroup_fs.to_path_buf();
    for part in relative.split('/') {
        let control = ancestor.join("cgroup.subtree_control");
        if control.exists() {
            for controller in ["+cpu", "+memory", "+pids"] {
                // A controller the kernel lacks is refused; the rest still apply.
                let _ = std::fs::write(&control, controller);
            }
        }
        ancestor = ancestor.join(part);
    }
    write(&dir, "cpu.weight", &limits.cpu_weight().to_string())?;
    let quota = limits
        .cpu_quota
        .map(|q| q.to_string())
        .unwrap_or_else(|| "max".to_string());
    write(&dir, "cpu.max", &format!("{quota} {}", limits.cpu_period))?;
    let memory = limits
        .memory_limit
        .map(|m| m.to_string())
        .unwrap_or_else(|| "max".to_string());
    write(&dir, "memory.max", &memory)
}

fn write(dir: &Path, file: &str, value: &str) -> std::io::Result<()> {
    std::fs::write(dir.join(file), value).map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!("writing {value} to {}: {e}", dir.join(file).display()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(path: std::path::PathBuf) -> String {
        std::fs::read_to_string(path).unwrap()
    }

    #[test]
    fn writes_v1_limits_per_controller() {
        let fs = tempfile::tempdir().unwrap();
        for controller in ["cpu", "memory", "pids"] {
            std::fs::create_dir_all(fs.path().join(controller).join("kubepods")).unwrap();
        }
        let limits = PodCgroupLimits {
            cpu_shares: 102,
            cpu_quota: Some(10_000),
            cpu_period: 100_000,
            memory_limit: Some(64 << 20),
        };
        create_pod_cgroup(fs.path(), "/kubepods/podu", &limits).unwrap();
        let cpu = fs.path().join("cpu/kubepods/podu");
        assert_eq!(read(cpu.join("cpu.shares")), "102");
        assert_eq!(read(cpu.join("cpu.cfs_quota_us")), "10000");
        assert_eq!(read(cpu.join("cpu.cfs_period_us")), "100000");
        assert_eq!(
            read(fs.path().join("memory/kubepods/podu/memory.limit_in_bytes")),
            "67108864"
        );
        assert!(fs.path().join("pids/kubepods/podu").is_dir());

        let best_effort = PodCgroupLimits {
            cpu_shares: 2,
            cpu_quota: None,
            cpu_period: 100_000,
            memory_limit: None,
        };
        create_pod_cgroup(fs.path(), "/kubepods/besteffort/podb", &best_effort).unwrap();
        assert_eq!(
            read(fs.path().join("cpu/kubepods/besteffort/cpu.shares")),
            "2"
        );
        assert!(!fs
            .path()
            .join("cpu/kubepods/besteffort/podb/cpu.cfs_quota_us")
            .exists());
        assert!(!fs
            .path()
            .join("memory/kubepods/besteffort/podb/memory.limit_in_bytes")
            .exists());
    }

    #[test]
    fn writes_v2_limits() {
        let fs = tempfile::tempdir().unwrap();
        std::fs::write(fs.path().join("cgroup.controllers"), "cpu memory pids").unwrap();
        let limits = PodCgroupLimits {
            cpu_shares: 2,
            cpu_quota: None,
            cpu_period: 100_000,
            memory_limit: Some(1 << 20),
        };
        create_pod_cgroup(fs.path(), "/kubepods/burstable/podu", &limits).unwrap();
        let dir = fs.path().join("kubepods/burstable/podu");
        assert_eq!(read(dir.join("cpu.weight")), "1");
        assert_eq!(read(dir.join("cpu.max")), "max 100000");
        assert_eq!(read(dir.join("memory.max")), "1048576");
    }
}
