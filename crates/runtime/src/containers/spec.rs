//! The OCI runtime spec (config.json) of a container, from its CRI config, its sandbox and image.

use std::path::{Path, PathBuf};

use k8s_cri::v1 as cri;
use oci_spec::runtime::{
    LinuxBuilder, LinuxCapabilitiesBuilder, LinuxNamespace, LinuxNamespaceBuilder,
    LinuxNamespaceType, Mount, MountBuilder, ProcessBuilder, RootBuilder, Spec, SpecBuilder,
    UserBuilder,
};

use super::capabilities::capability_set;
use super::process_args;
use super::resources::linux_resources;
use super::user::ResolvedUser;
use crate::sandboxes::SandboxInfo;
use crate::RuntimeError;

/// Everything a container's spec is made of.
pub struct SpecInputs<'a> {
    pub id: &'a str,
    pub config: &'a cri::ContainerConfig,
    pub sandbox: &'a SandboxInfo,
    pub image: Option<&'a oci_spec::image::Config>,
    /// The root path: an empty directory the overlay is mounted on.
    pub rootfs: &'a Path,
    /// The overlay's mount data (`lowerdir=…,upperdir=…,workdir=…`).
    pub overlay: &'a str,
    pub user: &'a ResolvedUser,
}

const MASKED_PATHS: [&str; 11] = [
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/sys/firmware",
    "/proc/scsi",
    "/sys/devices/virtual/powercap",
];

const READONLY_PATHS: [&str; 5] = [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

fn invalid(e: impl std::fmt::Display) -> RuntimeError {
    RuntimeError::InvalidArgument(e.to_string())
}

/// `<sandbox cgroup_parent>/<id>`, or `/r8s/<id>` without a parent (cgroupfs paths).
pub fn cgroups_path(cgroup_parent: &str, id: &str) -> String {
    let parent = cgroup_parent.trim_end_matches('/');
    if parent.is_empty() {
        format!("/r8s/{id}")
    } else if parent.starts_with('/') {
        format!("{parent}/{id}")
    } else {
        format!("/{parent}/{id}")
    }
}

fn mount(
    destination: &str,
    typ: &str,
    source: &str,
    options: &[&str],
) -> Result<Mount, RuntimeError> {
    MountBuilder::default()
        .destination(destination)
        .typ(typ)
        .source(source)
        .options(options.iter().map(|o| o.to_string()).collect::<Vec<_>>())
        .build()
        .map_err(invalid)
}

fn bind(
    destination: &str,
    source: &Path,
    readonly: bool,
    propagation: &str,
) -> Result<Mount, RuntimeError> {
    let mut options = vec!["rbind", propagation];
    if readonly {
        options.push("ro");
    }
    let source = source.to_string_lossy();
    mount(destination, "bind", &source, &options)
}

/// The mounts every container gets (unless a CRI mount has the same destination), then the
/// sandbox's files, then the CRI mounts.
fn mounts(
    inputs: &SpecInputs<'_>,
    readonly_rootfs: bool,
) -> Result<(Vec<Mount>, Option<&'static str>), RuntimeError> {
    let mut list = vec![
        mount("/proc", "proc", "proc", &["nosuid", "noexec", "nodev"])?,
        mount(
            "/dev",
            "tmpfs",
            "tmpfs",
            &["nosuid", "strictatime", "mode=755", "size=65536k"],
        )?,
        mount(
            "/dev/pts",
            "devpts",
            "devpts",
            &[
                "nosuid",
                "noexec",
                "newinstance",
                "ptmxmode=0666",
                "mode=0620",
                "gid=5",
            ],
        )?,
        mount(
            "/dev/mqueue",
            "mqueue",
            "mqueue",
            &["nosuid", "noexec", "nodev"],
        )?,
        mount(
            "/sys",
            "sysfs",
            "sysfs",
            &["nosuid", "noexec", "nodev", "ro"],
        )?,
        mount(
            "/sys/fs/cgroup",
            "cgroup",
            "cgroup",
            &["nosuid", "noexec", "nodev", "relatime", "ro"],
        )?,
        mount(
            "/dev/shm",
            "tmpfs",
            "shm",
            &["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
        )?,
    ];
    if !inputs.sandbox.hostname_file.as_os_str().is_empty() {
        list.push(bind(
            "/etc/hostname",
            &inputs.sandbox.hostname_file,
            readonly_rootfs,
            "rprivate",
        )?);
    }
    if let Some(resolv) = &inputs.sandbox.resolv_conf {
        list.push(bind(
            "/etc/resolv.conf",
            resolv,
            readonly_rootfs,
            "rprivate",
        )?);
    }
    let requested: Vec<&str> = inputs
        .config
        .mounts
        .iter()
        .map(|m| m.container_path.as_str())
        .collect();
    list.retain(|m| {
        let destination = m.destination().to_string_lossy();
        !requested.contains(&destination.as_ref())
    });
    // First, so everything else is mounted into it: the overlay at `/`, mounted by the runtime
    // inside the container's mount namespace only (see `rootfs`).
    let overlay_options: Vec<&str> = inputs.overlay.split(',').collect();
    list.insert(0, mount("/", "overlay", "overlay", &overlay_options)?);
    let mut rootfs_propagation = None;
    for m in &inputs.config.mounts {
        if m.container_path.is_empty() || m.host_path.is_empty() {
            return Err(RuntimeError::InvalidArgument(
                "a mount needs container_path and host_path".into(),
            ));
        }
        let propagation = match cri::MountPropagation::try_from(m.propagation) {
            Ok(cri::MountPropagation::PropagationBidirectional) => {
                rootfs_propagation = Some("rshared");
                "rshared"
            }
            Ok(cri::MountPropagation::PropagationHostToContainer) => {
                rootfs_propagation = rootfs_propagation.or(Some("rslave"));
                "rslave"
            }
            _ => "rprivate",
        };
        list.push(bind(
            &m.container_path,
            Path::new(&m.host_path),
            m.readonly,
            propagation,
        )?);
    }
    Ok((list, rootfs_propagation))
}

fn namespace(typ: LinuxNamespaceType, path: Option<&Path>) -> Result<LinuxNamespace, RuntimeError> {
    let builder = LinuxNamespaceBuilder::default().typ(typ);
    match path {
        Some(path) => builder.path(path.to_path_buf()).build(),
        None => builder.build(),
    }
    .map_err(invalid)
}

fn namespaces(inputs: &SpecInputs<'_>) -> Result<Vec<LinuxNamespace>, RuntimeError> {
    let sandbox = inputs.sandbox;
    let mut list = vec![namespace(LinuxNamespaceType::Mount, None)?];
    let pid_mode = inputs
        .config
        .linux
        .as_ref()
        .and_then(|l| l.security_context.as_ref())
        .and_then(|s| s.namespace_options.as_ref())
        .map(|n| n.pid)
        .unwrap_or(cri::NamespaceMode::Container as i32);
    match cri::NamespaceMode::try_from(pid_mode) {
        _ if sandbox.host_pid => {}
        Ok(cri::NamespaceMode::Node) => {}
        Ok(cri::NamespaceMode::Pod) => {
            let path = sandbox
                .pidns_path
                .clone()
                .unwrap_or_else(|| PathBuf::from(format!("/proc/{}/ns/pid", sandbox.pid)));
            list.push(namespace(LinuxNamespaceType::Pid, Some(&path))?);
        }
        _ => list.push(namespace(LinuxNamespaceType::Pid, None)?),
    }
    for (typ, path) in [
        (LinuxNamespaceType::Network, &sandbox.netns_path),
        (LinuxNamespaceType::Ipc, &sandbox.ipcns_path),
        (LinuxNamespaceType::Uts, &sandbox.utsns_path),
    ] {
        if let Some(path) = path {
            list.push(namespace(typ, Some(path))?);
        }
    }
    Ok(list)
}

/// Pod sysctls that belong to a namespace the container shares with its sandbox.
fn sysctls(sandbox: &SandboxInfo) -> std::collections::HashMap<String, String> {
    let all = sandbox
        .config
        .linux
        .as_ref()
        .map(|l| l.sysctls.clone())
        .unwrap_or_default();
    all.into_iter()
        .filter(|(key, _)| {
            let net = key.starts_with("net.");
            let ipc = key.starts_with("kernel.shm")
                || key.starts_with("kernel.msg")
                || key == "kernel.sem"
                || key.starts_with("fs.mqueue.");
            (net && sandbox.netns_path.is_some()) || (ipc && sandbox.ipcns_path.is_some())
        })
        .collect()
}

pub fn build_spec(inputs: &SpecInputs<'_>) -> Result<Spec, RuntimeError> {
    let config = inputs.config;
    let linux_config = config.linux.as_ref();
    let security = linux_config.and_then(|l| l.security_context.as_ref());
    let resources = linux_config.and_then(|l| l.resources.as_ref());
    let privileged = security.is_some_and(|s| s.privileged);
    let readonly_rootfs = security.is_some_and(|s| s.readonly_rootfs);
    let hostname = if inputs.sandbox.utsns_path.is_some() {
        inputs.sandbox.config.hostname.clone()
    } else {
        String::new()
    };

    let capabilities = capability_set(privileged, security.and_then(|s| s.capabilities.as_ref()))?;
    let capabilities = LinuxCapabilitiesBuilder::default()
        .bounding(capabilities.clone())
        .effective(capabilities.clone())
        .permitted(capabilities)
        .inheritable(oci_spec::runtime::Capabilities::new())
        .ambient(oci_spec::runtime::Capabilities::new())
        .build()
        .map_err(invalid)?;
    let user = UserBuilder::default()
        .uid(inputs.user.uid)
        .gid(inputs.user.gid)
        .additional_gids(inputs.user.additional_gids.clone())
        .build()
        .map_err(invalid)?;
    let cwd = if !config.working_dir.is_empty() {
        config.working_dir.clone()
    } else {
        inputs
            .image
            .and_then(|i| i.working_dir().clone())
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| "/".into())
    };
    let mut process = ProcessBuilder::default()
        .terminal(config.tty)
        .args(process_args::argv(config, inputs.image)?)
        .env(process_args::environment(config, inputs.image, &hostname))
        .cwd(cwd)
        .user(user)
        .capabilities(capabilities)
        .no_new_privileges(security.is_some_and(|s| s.no_new_privs))
        // Inherit the runtime's limits: raising them needs CAP_SYS_RESOURCE.
        .rlimits(Vec::new());
    if let Some(adj) = resources.map(|r| r.oom_score_adj).filter(|adj| *adj >= 0) {
        process = process.oom_score_adj(i32::try_from(adj).map_err(invalid)?);
    }
    let process = process.build().map_err(invalid)?;

    let (mounts, rootfs_propagation) = mounts(inputs, readonly_rootfs)?;
    let mut linux = LinuxBuilder::default()
        .namespaces(namespaces(inputs)?)
        .cgroups_path(PathBuf::from(cgroups_path(
            &inputs.sandbox.cgroup_parent,
            inputs.id,
        )))
        .resources(linux_resources(resources, Some(privileged))?)
        .sysctl(sysctls(inputs.sandbox));
    if let Some(propagation) = rootfs_propagation {
        linux = linux.rootfs_propagation(propagation);
    }
    if !privileged {
        let masked: Vec<String> = match security.map(|s| &s.masked_paths).filter(|p| !p.is_empty())
        {
            Some(paths) => paths.clone(),
            None => MASKED_PATHS.iter().map(|p| p.to_string()).collect(),
        };
        let readonly: Vec<String> = match security
            .map(|s| &s.readonly_paths)
            .filter(|p| !p.is_empty())
        {
            Some(paths) => paths.clone(),
            None => READONLY_PATHS.iter().map(|p| p.to_string()).collect(),
        };
        linux = linux.masked_paths(masked).readonly_paths(readonly);
    } else {
        linux = linux.masked_paths(Vec::new()).readonly_paths(Vec::new());
    }

    let root = RootBuilder::default()
        .path(inputs.rootfs.to_path_buf())
        .readonly(readonly_rootfs)
        .build()
        .map_err(invalid)?;
    let mut spec = SpecBuilder::default()
        .version("1.0.2")
        .root(root)
        .process(process)
        .mounts(mounts)
        .linux(linux.build().map_err(invalid)?);
    if !hostname.is_empty() {
        spec = spec.hostname(hostname.clone());
    }
    let mut spec = spec.build().map_err(invalid)?;
    if hostname.is_empty() {
        spec.set_hostname(None);
    }
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sandbox() -> SandboxInfo {
        SandboxInfo {
            id: "sb".into(),
            pid: 42,
            netns_path: Some("/run/netns/sb".into()),
            ipcns_path: Some("/proc/42/ns/ipc".into()),
            utsns_path: Some("/proc/42/ns/uts".into()),
            pidns_path: None,
            host_pid: false,
            config: cri::PodSandboxConfig {
                hostname: "web-0".into(),
                linux: Some(cri::LinuxPodSandboxConfig {
                    sysctls: [
                        ("net.ipv4.ip_forward".to_string(), "1".to_string()),
                        ("vm.x".to_string(), "1".to_string()),
                    ]
                    .into(),
                    ..Default::default()
                }),
                ..Default::default()
            },
            hostname_file: "/sb/hostname".into(),
            resolv_conf: Some("/sb/resolv.conf".into()),
            cgroup_parent: "/kubepods/besteffort/pod1".into(),
            ready: true,
            ips: Vec::new(),
        }
    }

    fn config() -> cri::ContainerConfig {
        cri::ContainerConfig {
            command: vec!["/app".into()],
            mounts: vec![cri::Mount {
                container_path: "/data".into(),
                host_path: "/var/data".into(),
                readonly: true,
                propagation: cri::MountPropagation::PropagationHostToContainer as i32,
                ..Default::default()
            }],
            linux: Some(cri::LinuxContainerConfig {
                resources: Some(cri::LinuxContainerResources {
                    memory_limit_in_bytes: 1 << 20,
                    oom_score_adj: 1000,
                    ..Default::default()
                }),
                security_context: Some(cri::LinuxContainerSecurityContext {
                    no_new_privs: true,
                    readonly_rootfs: true,
                    namespace_options: Some(cri::NamespaceOption {
                        pid: cri::NamespaceMode::Pod as i32,
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
            }),
            ..Default::default()
        }
    }

    fn spec_json(config: &cri::ContainerConfig, sandbox: &SandboxInfo) -> serde_json::Value {
        let user = ResolvedUser {
            uid: 1000,
            gid: 1000,
            additional_gids: vec![5],
        };
        let spec = build_spec(&SpecInputs {
            id: "c1",
            config,
            sandbox,
            image: None,
            rootfs: Path::new("/c/c1/rootfs"),
            overlay: "lowerdir=/l/2:/l/1,upperdir=/c/c1/upper,workdir=/c/c1/work",
            user: &user,
        })
        .unwrap();
        serde_json::to_value(&spec).unwrap()
    }

    #[test]
    fn spec_joins_the_sandbox_and_applies_the_security_context() {
        let json = spec_json(&config(), &sandbox());
        assert_eq!(json["root"]["path"], "/c/c1/rootfs");
        assert_eq!(json["root"]["readonly"], true);
        assert_eq!(
            json["mounts"][0],
            serde_json::json!({"destination": "/", "type": "overlay", "source": "overlay",
                "options": ["lowerdir=/l/2:/l/1", "upperdir=/c/c1/upper", "workdir=/c/c1/work"]})
        );
        assert_eq!(json["hostname"], "web-0");
        assert_eq!(json["process"]["args"], serde_json::json!(["/app"]));
        assert_eq!(json["process"]["user"]["uid"], 1000);
        assert_eq!(
            json["process"]["user"]["additionalGids"],
            serde_json::json!([5])
        );
        assert_eq!(json["process"]["noNewPrivileges"], true);
        assert_eq!(json["process"]["oomScoreAdj"], 1000);
        assert_eq!(json["linux"]["cgroupsPath"], "/kubepods/besteffort/pod1/c1");
        assert_eq!(json["linux"]["resources"]["memory"]["limit"], 1 << 20);
        assert_eq!(json["linux"]["rootfsPropagation"], "rslave");
        assert_eq!(
            json["linux"]["sysctl"],
            serde_json::json!({"net.ipv4.ip_forward": "1"})
        );
        assert!(json["linux"]["maskedPaths"]
            .as_array()
            .unwrap()
            .contains(&"/proc/kcore".into()));
        let namespaces: Vec<(String, String)> = json["linux"]["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                (
                    n["type"].as_str().unwrap().to_string(),
                    n["path"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        let namespaces: Vec<(&str, &str)> = namespaces
            .iter()
            .map(|(t, p)| (t.as_str(), p.as_str()))
            .collect();
        assert_eq!(
            namespaces,
            [
                ("mount", ""),
                ("pid", "/proc/42/ns/pid"),
                ("network", "/run/netns/sb"),
                ("ipc", "/proc/42/ns/ipc"),
                ("uts", "/proc/42/ns/uts"),
            ]
        );
        let mounts = json["mounts"].as_array().unwrap();
        let data = mounts.iter().find(|m| m["destination"] == "/data").unwrap();
        assert_eq!(data["source"], "/var/data");
        assert_eq!(
            data["options"],
            serde_json::json!(["rbind", "rslave", "ro"])
        );
        let hostname = mounts
            .iter()
            .find(|m| m["destination"] == "/etc/hostname")
            .unwrap();
        assert_eq!(hostname["source"], "/sb/hostname");
        for destination in [
            "/proc",
            "/dev",
            "/dev/pts",
            "/dev/shm",
            "/dev/mqueue",
            "/sys",
            "/etc/resolv.conf",
        ] {
            assert!(
                mounts.iter().any(|m| m["destination"] == destination),
                "{destination}"
            );
        }
        let caps = json["process"]["capabilities"]["bounding"]
            .as_array()
            .unwrap();
        assert_eq!(caps.len(), 14);
    }

    #[test]
    fn host_namespaces_and_privileged_containers() {
        let mut sandbox = sandbox();
        sandbox.netns_path = None;
        sandbox.ipcns_path = None;
        sandbox.utsns_path = None;
        sandbox.host_pid = true;
        sandbox.cgroup_parent = String::new();
        let mut config = config();
        config
            .linux
            .as_mut()
            .unwrap()
            .security_context
            .as_mut()
            .unwrap()
            .privileged = true;
        let json = spec_json(&config, &sandbox);
        assert_eq!(
            json["linux"]["namespaces"],
            serde_json::json!([{"type": "mount"}])
        );
        assert!(json.get("hostname").is_none());
        assert_eq!(json["linux"]["cgroupsPath"], "/r8s/c1");
        assert!(json["linux"]["maskedPaths"]
            .as_array()
            .is_none_or(|p| p.is_empty()));
        assert!(json["process"]["capabilities"]["ambient"]
            .as_array()
            .is_none_or(|p| p.is_empty()));
        assert_eq!(json["linux"]["resources"]["devices"][0]["allow"], true);
        assert!(
            json["process"]["capabilities"]["bounding"]
                .as_array()
                .unwrap()
                .len()
                > 30
        );
        assert!(json["linux"]
            .get("sysctl")
            .is_none_or(|s| s.as_object().unwrap().is_empty()));
    }
}
