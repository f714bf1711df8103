//! Whether the kernel's OOM killer struck inside a container's memory cgroup.

use std::path::Path;

/// Reads the `oom_kill` counter of the container's cgroup (`linux.cgroupsPath` of its config)
/// from the v1 memory controller (`memory.oom_control`) or cgroup v2 (`memory.events`).
pub fn was_oom_killed(cgroups_path: &str) -> bool {
    let relative = cgroups_path.trim_start_matches('/');
    if relative.is_empty() {
        return false;
    }
    let candidates = [
        Path::new("/sys/fs/cgroup/memory")
            .join(relative)
            .join("memory.oom_control"),
        Path::new("/sys/fs/cgroup/unified")
            .join(relative)
            .join("memory.events"),
        Path::new("/sys/fs/cgroup")
            .join(relative)
            .join("memory.events"),
    ];
    candidates
        .iter()
        .filter_map(|file| std::fs::read_to_string(file).ok())
        .any(|text| oom_kills(&text) > 0)
}

/// The `oom_kill N` line of `memory.oom_control` or `memory.events`.
fn oom_kills(text: &str) -> u64 {
    text.lines()
        .find_map(|line| line.strip_prefix("oom_kill "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

/// `linux.cgroupsPath` from a bundle's config.json.
pub fn cgroups_path_of(bundle: &Path) -> String {
    std::fs::read(bundle.join("config.json"))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .and_then(|config| {
            config
                .pointer("/linux/cgroupsPath")?
                .as_str()
                .map(str::to_string)
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oom_kills_reads_the_counter() {
        assert_eq!(
            oom_kills("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n"),
            2
        );
        assert_eq!(oom_kills("low 0\nhigh 0\nmax 1\noom 1\noom_kill 0\n"), 0);
        assert_eq!(oom_kills("under_oom 0\n"), 0);
    }
}
