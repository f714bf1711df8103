//! Resource usage of a container from its cgroup (v1 controllers, or the unified hierarchy) and
//! the size of its writable layer.

use std::path::Path;

pub struct Usage {
    pub cpu_ns: Option<u64>,
    pub memory_working_set: Option<u64>,
    pub memory_usage: Option<u64>,
}

fn read_u64(path: &Path) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

fn stat_field(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        line.strip_prefix(key)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

pub fn cgroup_usage(cgroups_path: &str) -> Usage {
    let relative = cgroups_path.trim_start_matches('/');
    let v1 = Path::new("/sys/fs/cgroup");
    let v2 = Path::new("/sys/fs/cgroup/unified").join(relative);
    let cpu_ns = read_u64(&v1.join("cpuacct").join(relative).join("cpuacct.usage")).or_else(|| {
        let text = std::fs::read_to_string(v2.join("cpu.stat")).ok()?;
        stat_field(&text, "usage_usec").map(|us| us * 1000)
    });
    let memory_dir = v1.join("memory").join(relative);
    let (memory_usage, inactive) = match read_u64(&memory_dir.join("memory.usage_in_bytes")) {
        Some(usage) => {
            let stat = std::fs::read_to_string(memory_dir.join("memory.stat")).unwrap_or_default();
            (
                Some(usage),
                stat_field(&stat, "total_inactive_file").unwrap_or(0),
            )
        }
        None => {
            let stat = std::fs::read_to_string(v2.join("memory.stat")).unwrap_or_default();
            (
                read_u64(&v2.join("memory.current")),
                stat_field(&stat, "inactive_file").unwrap_or(0),
            )
        }
    };
    Usage {
        cpu_ns,
        memory_working_set: memory_usage.map(|u| u.saturating_sub(inactive)),
        memory_usage,
    }
}

/// Bytes and inodes under `dir` (not following links).
pub fn disk_usage(dir: &Path) -> (u64, u64) {
    let mut bytes = 0;
    let mut inodes = 0;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(metadata) = entry.metadata() else {
                continue;
            };
            inodes += 1;
            if metadata.is_dir() {
                pending.push(entry.path());
            } else {
                bytes += metadata.len();
            }
        }
    }
    (bytes, inodes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_found_by_key() {
        let stat = "cache 10\ntotal_inactive_file 4096\ninactive_file 1\n";
        assert_eq!(stat_field(stat, "total_inactive_file"), Some(4096));
        assert_eq!(stat_field(stat, "inactive_file"), Some(1));
        assert_eq!(stat_field(stat, "missing"), None);
    }

    #[test]
    fn disk_usage_counts_files_and_dirs() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("a")).unwrap();
        std::fs::write(dir.path().join("a/f"), b"12345").unwrap();
        assert_eq!(disk_usage(dir.path()), (5, 2));
    }
}
