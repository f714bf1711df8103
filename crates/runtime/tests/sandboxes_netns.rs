//! Real sandboxes with real CNI plugins, inside a network namespace this test creates, so that the
//! bridge and the veths never touch the host's network.
//!
//! The binary is its own pause process (`<test> pause ...`, like `r8s pause`). It creates
//! `r8s-test-<random>`, re-runs itself inside it with `ip netns exec`, then kills any pause process
//! the inner run left and deletes the namespace, whatever happened. Skipped when not root.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use k8s_cri::v1 as cri;
use k8s_cri::v1::runtime_service_server::RuntimeService;
use runtime::grpc::RuntimeServiceImpl;
use runtime::{Runtime, RuntimeOptions};
use tonic::Request;

const PIDS_FILE_ENV: &str = "R8S_TEST_PAUSE_PIDS";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("pause") {
        return ExitCode::from(u8::try_from(runtime::pause::main()).unwrap_or(1));
    }
    if args.iter().any(|a| a == "--list") {
        println!("sandboxes_in_a_test_netns: test");
        return ExitCode::SUCCESS;
    }
    if !nix::unistd::geteuid().is_root() || !Path::new("/usr/lib/cni/bridge").exists() {
        println!("sandboxes_netns: skipped (needs root and /usr/lib/cni)");
        return ExitCode::SUCCESS;
    }
    if args.iter().any(|a| a == "--inside") {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(inside_the_test_netns());
        println!("sandboxes_netns: ok");
        return ExitCode::SUCCESS;
    }
    outside()
}

fn outside() -> ExitCode {
    let name = format!("r8s-test-{:08x}", rand::random::<u32>());
    let pids_file = std::env::temp_dir().join(format!("{name}.pids"));
    let added = Command::new("ip")
        .args(["netns", "add", &name])
        .status()
        .unwrap();
    assert!(added.success(), "ip netns add {name}");
    let inner = Command::new("ip")
        .args(["netns", "exec", &name])
        .arg(std::env::current_exe().unwrap())
        .arg("--inside")
        .env(PIDS_FILE_ENV, &pids_file)
        .status();
    kill_left_pause_processes(&pids_file);
    let _ = std::fs::remove_file(&pids_file);
    let deleted = Command::new("ip").args(["netns", "del", &name]).status();
    assert!(
        deleted.map(|s| s.success()).unwrap_or(false),
        "ip netns del {name}"
    );
    match inner {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    }
}

/// Pause processes the inner run recorded and did not stop (it failed half-way).
fn kill_left_pause_processes(pids_file: &Path) {
    let Ok(pids) = std::fs::read_to_string(pids_file) else {
        return;
    };
    for line in pids.lines() {
        let Ok(pid) = line.trim().parse::<i32>() else {
            continue;
        };
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains("pause") {
            eprintln!("killing left-over pause process {pid}");
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

fn record_pause_pid(pid: i32) {
    if let Some(file) = std::env::var_os(PIDS_FILE_ENV) {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(file)
            .unwrap();
        writeln!(f, "{pid}").unwrap();
    }
}

fn sandbox_config(
    name: &str,
    log_dir: &Path,
    network: cri::NamespaceMode,
) -> cri::PodSandboxConfig {
    cri::PodSandboxConfig {
        metadata: Some(cri::PodSandboxMetadata {
            name: name.into(),
            namespace: "default".into(),
            uid: format!("uid-{name}"),
            attempt: 0,
        }),
        hostname: if network == cri::NamespaceMode::Node {
            String::new()
        } else {
            name.into()
        },
        log_directory: log_dir.join(name).to_string_lossy().into_owned(),
        dns_config: Some(cri::DnsConfig {
            servers: vec!["10.96.0.10".into()],
            searches: vec!["default.svc.cluster.local".into()],
            options: vec!["ndots:5".into()],
        }),
        labels: [("app".to_owned(), name.to_owned())].into(),
        linux: Some(cri::LinuxPodSandboxConfig {
            security_context: Some(cri::LinuxSandboxSecurityContext {
                namespace_options: Some(cri::NamespaceOption {
                    network: network as i32,
                    pid: cri::NamespaceMode::Container as i32,
                    ipc: cri::NamespaceMode::Pod as i32,
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn in_netns_of(pid: i32, command: &[&str]) -> std::process::Output {
    Command::new("nsenter")
        .arg("-t")
        .arg(pid.to_string())
        .args(["-n", "-u"])
        .args(command)
        .output()
        .unwrap()
}

fn veths() -> String {
    let out = Command::new("ip")
        .args(["-o", "link", "show", "type", "veth"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn inside_the_test_netns() {
    let root = tempfile::tempdir().unwrap();
    let options = RuntimeOptions {
        root: root.path().join("agent"),
        self_exe: std::env::current_exe().unwrap(),
        oci_runtime: PathBuf::from("runc"),
        cni_bin_dir: PathBuf::from("/usr/lib/cni"),
        insecure_registries: Vec::new(),
        cluster_cidr: None,
        pod_mtu: None,
    };
    let service = RuntimeServiceImpl {
        runtime: std::sync::Arc::new(Runtime::open(options).await.unwrap()),
    };
    let runtime = service.runtime.clone();
    let logs = root.path().join("logs");

    let version = service
        .version(Request::new(cri::VersionRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (
            version.runtime_name.as_str(),
            version.runtime_api_version.as_str()
        ),
        ("r8s", "v1")
    );

    // No pod CIDR yet: NetworkReady=false, pod-network sandboxes refused.
    let status = service
        .status(Request::new(cri::StatusRequest::default()))
        .await
        .unwrap()
        .into_inner();
    let conditions = status.status.unwrap().conditions;
    assert!(conditions
        .iter()
        .any(|c| c.r#type == "RuntimeReady" && c.status));
    assert!(conditions
        .iter()
        .any(|c| c.r#type == "NetworkReady" && !c.status && c.reason == "NetworkPluginNotReady"));
    let refused = service
        .run_pod_sandbox(Request::new(cri::RunPodSandboxRequest {
            config: Some(sandbox_config("early", &logs, cri::NamespaceMode::Pod)),
            runtime_handler: String::new(),
        }))
        .await
        .unwrap_err();
    assert!(
        refused.message().contains("cni plugin not initialized"),
        "{refused:?}"
    );

    service
        .update_runtime_config(Request::new(cri::UpdateRuntimeConfigRequest {
            runtime_config: Some(cri::RuntimeConfig {
                network_config: Some(cri::NetworkConfig {
                    pod_cidr: "10.88.0.0/24".into(),
                }),
            }),
        }))
        .await
        .unwrap();
    let status = service
        .status(Request::new(cri::StatusRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert!(status.status.unwrap().conditions.iter().all(|c| c.status));

    let mut ids = Vec::new();
    for (name, network) in [
        ("pod-a", cri::NamespaceMode::Pod),
        ("pod-b", cri::NamespaceMode::Pod),
        ("host-pod", cri::NamespaceMode::Node),
    ] {
        let id = service
            .run_pod_sandbox(Request::new(cri::RunPodSandboxRequest {
                config: Some(sandbox_config(name, &logs, network)),
                runtime_handler: String::new(),
            }))
            .await
            .unwrap()
            .into_inner()
            .pod_sandbox_id;
        record_pause_pid(runtime.sandboxes.get(&id).await.unwrap().pid);
        assert_eq!(id.len(), 64);
        ids.push(id);
    }
    let duplicate = service
        .run_pod_sandbox(Request::new(cri::RunPodSandboxRequest {
            config: Some(sandbox_config("pod-a", &logs, cri::NamespaceMode::Pod)),
            runtime_handler: String::new(),
        }))
        .await
        .unwrap_err();
    assert_eq!(duplicate.code(), tonic::Code::AlreadyExists);

    let mut ips = Vec::new();
    for id in &ids[..2] {
        let status = service
            .pod_sandbox_status(Request::new(cri::PodSandboxStatusRequest {
                pod_sandbox_id: id.clone(),
                verbose: false,
            }))
            .await
            .unwrap()
            .into_inner()
            .status
            .unwrap();
        assert_eq!(status.state, cri::PodSandboxState::SandboxReady as i32);
        let ip = status.network.unwrap().ip;
        assert!(ip.starts_with("10.88.0."), "{ip}");
        ips.push(ip);
    }
    assert_ne!(ips[0], ips[1]);
    let host_status = runtime.sandboxes.status(&ids[2]).await.unwrap();
    assert_eq!(host_status.network.unwrap().ip, "");
    let host_info = runtime.sandboxes.get(&ids[2]).await.unwrap();
    assert!(host_info.netns_path.is_none() && host_info.ready);

    let infos = [
        runtime.sandboxes.get(&ids[0]).await.unwrap(),
        runtime.sandboxes.get(&ids[1]).await.unwrap(),
    ];
    for (info, peer_ip) in infos.iter().zip([&ips[1], &ips[0]]) {
        let ping = in_netns_of(info.pid, &["/bin/busybox", "ping", "-c1", "-W2", peer_ip]);
        assert!(ping.status.success(), "ping {peer_ip}: {ping:?}");
        let hostname = in_netns_of(info.pid, &["/bin/busybox", "hostname"]);
        assert_eq!(
            String::from_utf8_lossy(&hostname.stdout).trim(),
            info.config.hostname
        );
        let resolv = std::fs::read_to_string(info.resolv_conf.as_ref().unwrap()).unwrap();
        assert!(resolv.contains("nameserver 10.96.0.10"), "{resolv}");
        assert!(Path::new(&info.config.log_directory).is_dir());
        assert!(runtime::sandboxes::netns_is_bound(
            info.netns_path.as_ref().unwrap()
        ));
    }
    let leases = root.path().join("agent/run/cni/r8s");
    for ip in &ips {
        assert!(leases.join(ip).exists(), "host-local lease of {ip}");
    }
    assert_eq!(veths().lines().count(), 2, "{}", veths());

    let listed = service
        .list_pod_sandbox(Request::new(cri::ListPodSandboxRequest {
            filter: Some(cri::PodSandboxFilter {
                label_selector: [("app".to_owned(), "pod-b".to_owned())].into(),
                ..Default::default()
            }),
        }))
        .await
        .unwrap()
        .into_inner()
        .items;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, ids[1]);

    for id in &ids {
        service
            .stop_pod_sandbox(Request::new(cri::StopPodSandboxRequest {
                pod_sandbox_id: id.clone(),
            }))
            .await
            .unwrap();
        // Stopping twice is fine.
        service
            .stop_pod_sandbox(Request::new(cri::StopPodSandboxRequest {
                pod_sandbox_id: id.clone(),
            }))
            .await
            .unwrap();
        let status = runtime.sandboxes.status(id).await.unwrap();
        assert_eq!(status.state, cri::PodSandboxState::SandboxNotready as i32);
    }
    for ip in &ips {
        assert!(!leases.join(ip).exists(), "host-local released {ip}");
    }
    for id in &ids {
        service
            .remove_pod_sandbox(Request::new(cri::RemovePodSandboxRequest {
                pod_sandbox_id: id.clone(),
            }))
            .await
            .unwrap();
        service
            .remove_pod_sandbox(Request::new(cri::RemovePodSandboxRequest {
                pod_sandbox_id: id.clone(),
            }))
            .await
            .unwrap();
    }
    for info in infos.iter().chain([&host_info]) {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", info.pid)).unwrap_or_default();
        assert!(
            !stat.contains("(sandboxes_netns") || stat.contains(") Z"),
            "pause {} still runs: {stat}",
            info.pid
        );
        if let Some(netns) = &info.netns_path {
            assert!(!runtime::sandboxes::netns_is_bound(netns));
            assert!(!netns.exists());
        }
        assert!(!info.hostname_file.parent().unwrap().exists());
    }
    assert_eq!(veths(), "", "veths are gone");
    let listed = service
        .list_pod_sandbox(Request::new(cri::ListPodSandboxRequest::default()))
        .await
        .unwrap()
        .into_inner()
        .items;
    assert!(listed.is_empty());
}
