//! What the kubelet reports about the machine it runs on.

use std::path::Path;

/// The machine's resources and identity, read once at start-up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MachineInfo {
    pub cpus: u64,
    pub memory_bytes: u64,
    /// Size of the filesystem holding the kubelet's root directory.
    pub ephemeral_storage_bytes: u64,
    pub os_image: String,
    pub kernel_version: String,
    pub machine_id: String,
    pub boot_id: String,
    pub system_uuid: String,
}

impl MachineInfo {
    /// Reads /proc, /etc and /sys; anything unreadable is left empty or zero.
    pub fn read(root_dir: &Path) -> Self {
        let read = |path: &str| {
            std::fs::read_to_string(path)
                .map(|s| s.trim().to_string())
                .unwrap_or_default()
        };
        let cpus = std::thread::available_parallelism()
            .map(|n| n.get() as u64)
            .unwrap_or(1);
        Self {
            cpus,
            memory_bytes: mem_total_bytes(&read("/proc/meminfo")).unwrap_or(0),
            ephemeral_storage_bytes: filesystem_size(root_dir),
            os_image: pretty_name(&read("/etc/os-release")).unwrap_or_else(|| "Linux".to_string()),
            kernel_version: nix::sys::utsname::uname()
                .map(|u| u.release().to_string_lossy().into_owned())
                .unwrap_or_default(),
            machine_id: read("/etc/machine-id"),
            boot_id: read("/proc/sys/kernel/random/boot_id"),
            system_uuid: read("/sys/class/dmi/id/product_uuid"),
        }
    }
}

/// `MemTotal` of /proc/meminfo, in bytes.
pub fn mem_total_bytes(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// `PRETTY_NAME` of /etc/os-release, unquoted.
pub fn pretty_name(os_release: &str) -> Option<String> {
    let value = os_release
        .lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))?;
    Some(
        value
            .trim()
            .trim_matches('"')
            .trim_matches('\'')
            .to_string(),
    )
}

fn filesystem_size(path: &Path) -> u64 {
    let mut probe = path.to_path_buf();
    // The root dir may not exist yet: measure the nearest existing ancestor.
    while !probe.exists() {
        if !probe.pop() {
            return 0;
        }
    }
    nix::sys::statvfs::statvfs(&probe)
        .map(|s| s.blocks() * s.fragment_size())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_meminfo_and_os_release() {
        assert_eq!(
            mem_total_bytes("MemTotal:       16318256 kB\nMemFree: 1 kB\n"),
            Some(16318256 * 1024)
        );
        assert_eq!(
            pretty_name("NAME=\"Debian\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"),
            Some("Debian GNU/Linux 12 (bookworm)".to_string())
        );
    }

    #[test]
    fn reads_this_machine() {
        let info = MachineInfo::read(Path::new("/nonexistent/kubelet"));
        assert!(info.cpus >= 1);
        assert!(info.memory_bytes > 0);
        assert!(info.ephemeral_storage_bytes > 0);
    }
}
