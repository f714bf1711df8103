//! What the eviction signals read: node memory from /proc/meminfo (MemAvailable), the node and
//! image filesystems from statvfs.

use std::collections::BTreeMap;
use std::path::Path;

use super::threshold::{Signal, Threshold};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observation {
    pub available: u64,
    pub capacity: u64,
}

pub type Observations = BTreeMap<Signal, Observation>;

/// Available and total bytes of the filesystem holding `path`.
pub fn filesystem_observation(path: &Path) -> Option<Observation> {
    let stat = nix::sys::statvfs::statvfs(path).ok()?;
    let fragment = stat.fragment_size();
    Some(Observation {
        available: stat.blocks_available().saturating_mul(fragment),
        capacity: stat.blocks().saturating_mul(fragment),
    })
}

/// Whether both paths live on one filesystem (same device).
pub fn same_filesystem(a: &Path, b: &Path) -> bool {
    match (nix::sys::stat::stat(a), nix::sys::stat::stat(b)) {
        (Ok(a), Ok(b)) => a.st_dev == b.st_dev,
        _ => true,
    }
}

/// Node memory from /proc/meminfo's MemAvailable and MemTotal.
pub fn memory_observation(meminfo: &str) -> Option<Observation> {
    let field = |key: &str| {
        let line = meminfo.lines().find(|l| l.split(':').next() == Some(key))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    };
    Some(Observation {
        available: field("MemAvailable")?,
        capacity: field("MemTotal")?,
    })
}

/// Reads every signal: memory, the kubelet root's filesystem and the image filesystem.
pub fn observe(root_dir: &Path, image_fs: Option<&Path>) -> Observations {
    let mut observations = Observations::new();
    if let Some(memory) = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .as_deref()
        .and_then(memory_observation)
    {
        observations.insert(Signal::MemoryAvailable, memory);
    }
    if let Some(nodefs) = filesystem_observation(root_dir) {
        observations.insert(Signal::NodeFsAvailable, nodefs);
    }
    // imagefs.available is a signal of its own only for a dedicated image filesystem; on the
    // node's filesystem the nodefs thresholds govern.
    if let Some(image_fs) = image_fs.filter(|path| !same_filesystem(root_dir, path)) {
        if let Some(imagefs) = filesystem_observation(image_fs) {
            observations.insert(Signal::ImageFsAvailable, imagefs);
        }
    }
    observations
}

/// The thresholds whose signal's available amount is below them.
pub fn thresholds_met<'a>(
    thresholds: &'a [Threshold],
    observations: &Observations,
) -> Vec<(&'a Threshold, Observation)> {
    thresholds
        .iter()
        .filter_map(|t| {
            let observed = observations.get(&t.signal)?;
            (observed.available < t.bytes(observed.capacity)).then_some((t, *observed))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eviction::threshold::parse_thresholds;

    #[test]
    fn meets_thresholds_below_available() {
        let thresholds = parse_thresholds("memory.available<100Mi,nodefs.available<10%").unwrap();
        let mut observations = Observations::new();
        observations.insert(
            Signal::MemoryAvailable,
            Observation {
                available: 50 << 20,
                capacity: 1 << 30,
            },
        );
        observations.insert(
            Signal::NodeFsAvailable,
            Observation {
                available: 500,
                capacity: 1000,
            },
        );
        let met = thresholds_met(&thresholds, &observations);
        assert_eq!(met.len(), 1);
        assert_eq!(met[0].0.signal, Signal::MemoryAvailable);
    }

    #[test]
    fn reads_meminfo_and_the_root_filesystem() {
        let meminfo = "MemTotal: 2048 kB\nMemFree: 10 kB\nMemAvailable: 1024 kB\n";
        assert_eq!(
            memory_observation(meminfo),
            Some(Observation {
                available: 1 << 20,
                capacity: 2 << 20
            })
        );
        let fs = filesystem_observation(Path::new("/")).unwrap();
        assert!(fs.capacity >= fs.available && fs.capacity > 0);
    }
}
