//! What a node test leaves behind if it fails half-way: containers, shims, pause processes and
//! mounts under the test's data directory. The server of a node test runs with `R8S_E2E_DIR` set
//! to the test's directory; its shims and pause processes inherit it, which is how they are told
//! apart from those of other tests running at the same time.

use std::path::Path;
use std::process::Command;

/// Force-deletes every container of the runc root, kills the test binary's shims and pause
/// processes, and unmounts everything mounted under `dir` (deepest first).
pub fn clean_node(dir: &Path) {
    let runc_root = dir.join("data/agent/run/runc");
    if runc_root.exists() {
        for id in runc_containers(&runc_root) {
            let _ = Command::new("runc")
                .arg("--root")
                .arg(&runc_root)
                .args(["delete", "--force", &id])
                .status();
        }
    }
    for pid in helper_processes(dir) {
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
    }
    for mount_point in mounts_under(dir) {
        let _ = Command::new("umount").arg("-l").arg(&mount_point).status();
    }
    remove_pod_cgroups(&pod_uids(dir));
}

/// The uids of the pods the test's node ran, from its pod log directories
/// (`<dir>/pod-logs/<namespace>_<name>_<uid>`).
fn pod_uids(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir.join("pod-logs")) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            name.rsplit('_').next().map(str::to_string)
        })
        .collect()
}

/// Removes `pod<uid>` cgroups (and any container cgroups left inside) of these pods from every
/// v1 hierarchy and the unified one. Only empty cgroups can go, so live processes are never hit.
fn remove_pod_cgroups(uids: &[String]) {
    if uids.is_empty() {
        return;
    }
    let Ok(hierarchies) = std::fs::read_dir("/sys/fs/cgroup") else {
        return;
    };
    for hierarchy in hierarchies.flatten() {
        let kubepods = hierarchy.path().join("kubepods");
        let candidates = [
            kubepods.clone(),
            kubepods.join("burstable"),
            kubepods.join("besteffort"),
        ];
        for parent in candidates {
            for uid in uids {
                remove_cgroup_tree(&parent.join(format!("pod{uid}")));
            }
        }
    }
}

fn remove_cgroup_tree(path: &Path) {
    if let Ok(children) = std::fs::read_dir(path) {
        for child in children.flatten() {
            if child.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                remove_cgroup_tree(&child.path());
            }
        }
    }
    let _ = std::fs::remove_dir(path);
}

/// Mount points under `dir` that are still mounted, deepest first.
pub fn mounts_under(dir: &Path) -> Vec<String> {
    let prefix = dir.to_string_lossy().to_string();
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut points: Vec<String> = mountinfo
        .lines()
        .filter_map(|line| line.split_whitespace().nth(4))
        .filter(|point| point.starts_with(&prefix))
        .map(str::to_string)
        .collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.len()));
    points
}

fn runc_containers(root: &Path) -> Vec<String> {
    let out = Command::new("runc")
        .arg("--root")
        .arg(root)
        .args(["list", "-q"])
        .output();
    match out {
        Ok(out) => String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// The environment variable that marks every process a node test's server starts.
pub const TEST_DIR_ENV: &str = "R8S_E2E_DIR";

/// PIDs of `r8s shim` and `r8s pause` processes started by the server of the test in `dir`.
pub fn helper_processes(dir: &Path) -> Vec<u32> {
    let binary = std::fs::canonicalize(env!("CARGO_BIN_EXE_r8s")).unwrap_or_default();
    let marker = format!("{TEST_DIR_ENV}={}", dir.display()).into_bytes();
    let mut pids = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return pids;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(exe) = std::fs::read_link(entry.path().join("exe")) else {
            continue;
        };
        if exe != binary {
            continue;
        }
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let argv1 = cmdline.split(|b| *b == 0).nth(1).unwrap_or_default();
        if argv1 != b"shim" && argv1 != b"pause" {
            continue;
        }
        let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
        if environ
            .split(|b| *b == 0)
            .any(|var| var == marker.as_slice())
        {
            pids.push(pid);
        }
    }
    pids
}
