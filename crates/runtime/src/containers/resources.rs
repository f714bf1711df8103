//! CRI `LinuxContainerResources` as OCI cgroup settings.

use k8s_cri::v1 as cri;
use oci_spec::runtime::{
    LinuxCpuBuilder, LinuxDeviceCgroupBuilder, LinuxMemoryBuilder, LinuxResources,
    LinuxResourcesBuilder,
};

use crate::RuntimeError;

fn invalid(e: impl std::fmt::Display) -> RuntimeError {
    RuntimeError::InvalidArgument(e.to_string())
}

/// The cgroup settings; `devices` rules only at creation (an update leaves them alone).
pub fn linux_resources(
    resources: Option<&cri::LinuxContainerResources>,
    device_rules: Option<bool>,
) -> Result<LinuxResources, RuntimeError> {
    let mut builder = LinuxResourcesBuilder::default();
    if let Some(allow_all) = device_rules {
        // Deny everything; runc then adds its standard allowed devices. Privileged: allow all.
        let rule = LinuxDeviceCgroupBuilder::default()
            .allow(allow_all)
            .access("rwm")
            .build()
            .map_err(invalid)?;
        builder = builder.devices(vec![rule]);
    }
    if let Some(r) = resources {
        let mut cpu = LinuxCpuBuilder::default();
        if r.cpu_shares > 0 {
            cpu = cpu.shares(r.cpu_shares as u64);
        }
        if r.cpu_quota > 0 {
            cpu = cpu.quota(r.cpu_quota);
        }
        if r.cpu_period > 0 {
            cpu = cpu.period(r.cpu_period as u64);
        }
        if !r.cpuset_cpus.is_empty() {
            cpu = cpu.cpus(r.cpuset_cpus.clone());
        }
        if !r.cpuset_mems.is_empty() {
            cpu = cpu.mems(r.cpuset_mems.clone());
        }
        builder = builder.cpu(cpu.build().map_err(invalid)?);
        let mut memory = LinuxMemoryBuilder::default();
        if r.memory_limit_in_bytes > 0 {
            memory = memory.limit(r.memory_limit_in_bytes);
        }
        if r.memory_swap_limit_in_bytes > 0 {
            memory = memory.swap(r.memory_swap_limit_in_bytes);
        }
        builder = builder.memory(memory.build().map_err(invalid)?);
    }
    builder.build().map_err(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_map_to_cgroup_settings() {
        let cri = cri::LinuxContainerResources {
            cpu_shares: 512,
            cpu_quota: 50_000,
            cpu_period: 100_000,
            memory_limit_in_bytes: 64 << 20,
            ..Default::default()
        };
        let resources = linux_resources(Some(&cri), Some(false)).unwrap();
        let json = serde_json::to_value(&resources).unwrap();
        assert_eq!(json["cpu"]["shares"], 512);
        assert_eq!(json["cpu"]["quota"], 50_000);
        assert_eq!(json["cpu"]["period"], 100_000);
        assert_eq!(json["memory"]["limit"], 64 << 20);
        assert_eq!(json["devices"][0]["allow"], false);
    }
}
