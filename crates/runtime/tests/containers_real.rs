//! Real containers through runc and the shim (needs root; skipped otherwise).
//!
//! This binary has no libtest harness: the shim is started as `<this binary> shim --id ...`, so
//! `main` hands such a command line to `runtime::shim::main`, as the `r8s` binary does.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_cri::v1 as cri;
use runtime::containers::Containers;
use runtime::images::ResolvedImage;
use runtime::sandboxes::SandboxInfo;
use runtime::{RuntimeOptions, RuntimePaths};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("shim")
        && args.get(2).map(String::as_str) == Some("--id")
    {
        std::process::exit(runtime::shim::main(&args[1..]));
    }
    if !nix::unistd::geteuid().is_root() || !Path::new("/bin/busybox").exists() {
        println!("containers_real: skipped (needs root and /bin/busybox)");
        return;
    }
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let tests: [(&str, RealTest); 2] = [
        ("container_runs_logs_exits_and_is_removed", |s| {
            Box::pin(container_runs_logs_exits_and_is_removed(s))
        }),
        ("running_container_is_readopted_after_restart", |s| {
            Box::pin(running_container_is_readopted_after_restart(s))
        }),
    ];
    let filter: Vec<&String> = args
        .iter()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    for (name, test) in tests {
        if !filter.is_empty() && !filter.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        println!("test {name} ...");
        let setup = Setup::new();
        tokio.block_on(test(&setup));
        println!("test {name} ... ok");
    }
}

/// One real test: borrows the set-up and returns its future.
type RealTest = fn(&Setup) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + '_>>;

/// A runtime root, a one-layer busybox image and a host-namespace sandbox; cleans up on drop.
struct Setup {
    /// Held for its Drop: the temp dir goes away with the set-up.
    _dir: tempfile::TempDir,
    paths: RuntimePaths,
    options: RuntimeOptions,
    image: ResolvedImage,
    sandbox: SandboxInfo,
}

impl Setup {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("agent");
        let mut options =
            RuntimeOptions::for_data_dir(dir.path(), std::env::current_exe().expect("current exe"));
        options.oci_runtime = PathBuf::from("/usr/sbin/runc");
        let paths = RuntimePaths::new(root);
        let layer = dir.path().join("layer");
        for sub in ["bin", "etc", "tmp"] {
            std::fs::create_dir_all(layer.join(sub)).expect("layer dirs");
        }
        std::fs::copy("/bin/busybox", layer.join("bin/busybox")).expect("copy busybox");
        for applet in ["sh", "echo", "sleep", "cat", "id"] {
            std::os::unix::fs::symlink("busybox", layer.join("bin").join(applet))
                .expect("applet link");
        }
        std::fs::write(layer.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n")
            .expect("passwd");
        std::fs::write(layer.join("etc/group"), "root:x:0:\n").expect("group");
        let image = ResolvedImage {
            id: "sha256:0123".into(),
            references: vec!["example.com/busybox:test".into()],
            layers: vec![layer],
            config: oci_spec::image::ImageConfiguration::default(),
        };
        let hostname_file = dir.path().join("hostname");
        std::fs::write(&hostname_file, "test-pod\n").expect("hostname");
        let sandbox = SandboxInfo {
            id: "sandbox-1".into(),
            pid: 0,
            netns_path: None,
            ipcns_path: None,
            utsns_path: None,
            pidns_path: None,
            host_pid: false,
            config: cri::PodSandboxConfig {
                log_directory: dir.path().join("logs").display().to_string(),
                hostname: "test-pod".into(),
                ..Default::default()
            },
            hostname_file,
            resolv_conf: None,
            cgroup_parent: String::new(),
            ready: true,
            ips: Vec::new(),
        };
        Self {
            _dir: dir,
            paths,
            options,
            image,
            sandbox,
        }
    }

    fn config(&self, name: &str, script: &str) -> cri::ContainerConfig {
        cri::ContainerConfig {
            metadata: Some(cri::ContainerMetadata {
                name: name.into(),
                attempt: 0,
            }),
            image: Some(cri::ImageSpec {
                image: "example.com/busybox:test".into(),
                ..Default::default()
            }),
            command: vec!["/bin/sh".into(), "-c".into(), script.into()],
            log_path: format!("{name}/0.log"),
            labels: HashMap::from([("app".to_string(), name.to_string())]),
            linux: Some(cri::LinuxContainerConfig {
                resources: Some(cri::LinuxContainerResources {
                    memory_limit_in_bytes: 64 << 20,
                    cpu_shares: 256,
                    ..Default::default()
                }),
                security_context: Some(cri::LinuxContainerSecurityContext {
                    namespace_options: Some(cri::NamespaceOption {
                        network: cri::NamespaceMode::Node as i32,
                        pid: cri::NamespaceMode::Container as i32,
                        ipc: cri::NamespaceMode::Node as i32,
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
            }),
            ..Default::default()
        }
    }

    async fn open(&self) -> Containers {
        Containers::open(&self.paths, &self.options)
            .await
            .expect("open containers")
    }

    fn runc_state_exists(&self, id: &str) -> bool {
        std::process::Command::new("/usr/sbin/runc")
            .arg("--root")
            .arg(self.paths.oci_runtime_root())
            .args(["state", id])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        let Ok(entries) = std::fs::read_dir(self.paths.containers()) else {
            return;
        };
        for entry in entries.flatten() {
            let id = entry.file_name().to_string_lossy().into_owned();
            let _ = std::process::Command::new("/usr/sbin/runc")
                .arg("--root")
                .arg(self.paths.oci_runtime_root())
                .args(["delete", "--force", &id])
                .status();
            let _ = nix::mount::umount2(
                &entry.path().join("rootfs"),
                nix::mount::MntFlags::MNT_DETACH,
            );
        }
        // The parent cgroup runc made for containers without a sandbox cgroup.
        if let Ok(controllers) = std::fs::read_dir("/sys/fs/cgroup") {
            for controller in controllers.flatten() {
                let _ = std::fs::remove_dir(controller.path().join("r8s"));
            }
        }
    }
}

fn mounted(path: &Path) -> bool {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let path = path.display().to_string();
    mountinfo
        .lines()
        .any(|l| l.split(' ').nth(4) == Some(path.as_str()))
}

fn process_alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| !stat.contains(") Z "))
        .unwrap_or(false)
}

async fn wait_for_state(
    containers: &Containers,
    id: &str,
    state: cri::ContainerState,
) -> cri::ContainerStatus {
    for _ in 0..400 {
        let status = containers.status(id).await.expect("status");
        if status.state == state as i32 {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("container {id} never reached {state:?}");
}

async fn container_runs_logs_exits_and_is_removed(setup: &Setup) {
    let containers = setup.open().await;
    let config = setup.config("echoer", "echo hello; echo oops >&2; sleep 1; exit 3");
    let id = containers
        .create(config.clone(), &setup.sandbox, &setup.image)
        .await
        .expect("create");
    assert!(
        containers
            .create(config, &setup.sandbox, &setup.image)
            .await
            .is_err(),
        "a second container with the same name and attempt is refused"
    );
    let status = containers.status(&id).await.expect("status");
    assert_eq!(status.state, cri::ContainerState::ContainerCreated as i32);
    let rootfs = setup.paths.containers().join(&id).join("rootfs");
    assert!(
        !mounted(&rootfs),
        "the overlay is mounted in the container's namespace, not the host's"
    );
    let init_pid = std::fs::read_to_string(setup.paths.containers().join(&id).join("init.pid"))
        .expect("init.pid");
    let container_mounts =
        std::fs::read_to_string(format!("/proc/{}/mountinfo", init_pid.trim())).expect("mountinfo");
    assert!(
        container_mounts.lines().any(|l| {
            let fields: Vec<&str> = l.split(' ').collect();
            fields.get(4) == Some(&"/") && l.contains(" - overlay ")
        }),
        "the container's root is the overlay: {container_mounts}"
    );
    let shim_pid: i32 =
        std::fs::read_to_string(setup.paths.containers().join(&id).join("shim.pid"))
            .expect("shim.pid")
            .trim()
            .parse()
            .expect("pid");

    containers.start(&id).await.expect("start");
    let running = containers.status(&id).await.expect("status");
    assert_eq!(running.state, cri::ContainerState::ContainerRunning as i32);
    assert!(running.started_at > 0);
    let stats = containers.stats(&id).await.expect("stats");
    assert!(
        stats.memory.and_then(|m| m.working_set_bytes).is_some(),
        "memory usage from the cgroup"
    );

    let exited = wait_for_state(&containers, &id, cri::ContainerState::ContainerExited).await;
    assert_eq!(exited.exit_code, 3);
    assert_eq!(exited.reason, "Error");
    assert!(exited.finished_at >= exited.started_at);
    let log = std::fs::read_to_string(&exited.log_path).expect("log file");
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 2, "{log}");
    let stdout = lines
        .iter()
        .find(|l| l.contains(" stdout "))
        .expect("a stdout line");
    let (time, rest) = stdout.split_once(' ').expect("timestamp");
    assert!(time.parse::<jiff::Timestamp>().is_ok(), "{time}");
    assert_eq!(rest, "stdout F hello");
    assert!(lines.iter().any(|l| l.ends_with(" stderr F oops")));

    let listed = containers.list(None).await;
    assert_eq!(listed.len(), 1);
    containers.remove(&id).await.expect("remove");
    containers
        .remove(&id)
        .await
        .expect("removing twice is fine");
    assert!(!mounted(&rootfs));
    assert!(!setup.paths.containers().join(&id).exists());
    assert!(!setup.runc_state_exists(&id));
    assert!(!process_alive(shim_pid), "the shim is gone");
    assert!(containers.list(None).await.is_empty());
}

async fn running_container_is_readopted_after_restart(setup: &Setup) {
    let containers = setup.open().await;
    let id = containers
        .create(
            setup.config("sleeper", "echo up; exec sleep 60"),
            &setup.sandbox,
            &setup.image,
        )
        .await
        .expect("create");
    containers.start(&id).await.expect("start");
    drop(containers);

    let containers = setup.open().await;
    let shim_pid = std::fs::read_to_string(setup.paths.containers().join(&id).join("shim.pid"))
        .expect("shim.pid");
    let shim_status =
        std::fs::read_to_string(format!("/proc/{}/status", shim_pid.trim())).unwrap_or_default();
    let rss = shim_status
        .lines()
        .find(|l| l.starts_with("VmRSS"))
        .unwrap_or("VmRSS: ?");
    println!("  shim {rss}");
    let status = containers
        .status(&id)
        .await
        .expect("status after re-adoption");
    assert_eq!(status.state, cri::ContainerState::ContainerRunning as i32);
    let exec = containers
        .exec_sync(
            &id,
            vec!["/bin/sh".into(), "-c".into(), "echo in; exit 4".into()],
            Duration::from_secs(10),
        )
        .await
        .expect("exec");
    assert_eq!(exec.stdout, b"in\n");
    assert_eq!(exec.exit_code, 4);
    let filter = cri::ContainerFilter {
        state: Some(cri::ContainerStateValue {
            state: cri::ContainerState::ContainerRunning as i32,
        }),
        label_selector: HashMap::from([("app".to_string(), "sleeper".to_string())]),
        ..Default::default()
    };
    assert_eq!(containers.list(Some(&filter)).await.len(), 1);

    // PID 1 ignores SIGTERM: the stop ends with SIGKILL after the timeout.
    containers
        .stop(&id, Duration::from_secs(1))
        .await
        .expect("stop");
    let status = containers.status(&id).await.expect("status");
    assert_eq!(status.state, cri::ContainerState::ContainerExited as i32);
    assert_eq!(status.exit_code, 137);
    containers
        .stop(&id, Duration::from_secs(1))
        .await
        .expect("stopping twice is fine");
    containers
        .remove_in_sandbox(&setup.sandbox.id)
        .await
        .expect("remove");
    assert!(!setup.paths.containers().join(&id).exists());
    assert!(!setup.runc_state_exists(&id));
}
