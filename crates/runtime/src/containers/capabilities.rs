//! The capability set of a container: containerd's default set, with the CRI's adds and drops.

use std::collections::HashSet;

use k8s_cri::v1 as cri;
use oci_spec::runtime::{Capabilities, Capability};

use crate::RuntimeError;

/// What containerd grants by default.
const DEFAULT: [&str; 14] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "FSETID",
    "FOWNER",
    "MKNOD",
    "NET_RAW",
    "SETGID",
    "SETUID",
    "SETFCAP",
    "SETPCAP",
    "NET_BIND_SERVICE",
    "SYS_CHROOT",
    "KILL",
    "AUDIT_WRITE",
];

/// Every capability up to CAP_CHECKPOINT_RESTORE; runc skips the ones this kernel lacks.
const ALL: [&str; 41] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
];

fn parse(name: &str) -> Result<Capability, RuntimeError> {
    serde_json::from_value(serde_json::Value::String(name.to_string()))
        .map_err(|_| RuntimeError::InvalidArgument(format!("unknown capability {name:?}")))
}

fn parse_all(names: &[&str]) -> Result<Capabilities, RuntimeError> {
    names.iter().map(|n| parse(n)).collect()
}

/// The capabilities of `ALL` (in bit order) whose bit is set in `mask`.
fn all_in_mask(mask: u64) -> Vec<&'static str> {
    ALL.iter()
        .enumerate()
        .filter(|(bit, _)| mask & (1u64 << bit) != 0)
        .map(|(_, name)| *name)
        .collect()
}

/// Every capability this process may grant (its bounding set, as containerd's `cap.Current()`):
/// asking runc for one the runtime lacks fails the container with EPERM.
fn all_held() -> Vec<&'static str> {
    let mask = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("CapBnd:"))
                .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        })
        .unwrap_or(u64::MAX);
    all_in_mask(mask)
}

fn is_all(name: &str) -> bool {
    name.eq_ignore_ascii_case("ALL")
}

pub fn capability_set(
    privileged: bool,
    requested: Option<&cri::Capability>,
) -> Result<Capabilities, RuntimeError> {
    if privileged {
        return parse_all(&all_held());
    }
    let mut set: HashSet<Capability> = parse_all(&DEFAULT)?;
    let Some(requested) = requested else {
        return Ok(set);
    };
    if requested.drop_capabilities.iter().any(|c| is_all(c)) {
        set.clear();
    } else {
        for name in &requested.drop_capabilities {
            set.remove(&parse(name)?);
        }
    }
    if requested.add_capabilities.iter().any(|c| is_all(c)) {
        set = parse_all(&all_held())?;
    } else {
        for name in &requested.add_capabilities {
            set.insert(parse(name)?);
        }
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_and_drops_change_the_default_set() {
        let requested = cri::Capability {
            add_capabilities: vec!["NET_ADMIN".into()],
            drop_capabilities: vec!["CAP_KILL".into()],
            ..Default::default()
        };
        let set = capability_set(false, Some(&requested)).unwrap();
        assert!(set.contains(&Capability::NetAdmin));
        assert!(!set.contains(&Capability::Kill));
        assert!(set.contains(&Capability::Chown));
        assert_eq!(capability_set(false, None).unwrap().len(), 14);
        let dropped = cri::Capability {
            drop_capabilities: vec!["ALL".into()],
            add_capabilities: vec!["CHOWN".into()],
            ..Default::default()
        };
        assert_eq!(capability_set(false, Some(&dropped)).unwrap().len(), 1);
        assert_eq!(capability_set(true, None).unwrap().len(), all_held().len());
        let without_sys_resource = all_in_mask(0x1fffeffffff);
        assert_eq!(without_sys_resource.len(), ALL.len() - 1);
        assert!(!without_sys_resource.contains(&"SYS_RESOURCE"));
    }
}
