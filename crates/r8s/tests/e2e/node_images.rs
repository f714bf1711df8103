//! Images on a real node: pulls from a local registry (Debian's docker-registry inside the test's
//! network namespace), `r8s image import` while the node runs, node status images, and the
//! kubelet driving containerd instead of r8s's own runtime.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{path_str, Server};
use crate::netns::NODE_IP;
use crate::node_agent::BUSYBOX;
use crate::node_support::wait_until;

const REGISTRY_PORT: u16 = 5000;
/// Pods here need no API token (which keeps them independent of TokenRequest).
const NO_TOKEN: &str = r#"--overrides={"spec":{"automountServiceAccountToken":false}}"#;
/// The test machine's disk may be fuller than upstream's defaults allow: no disk-pressure
/// eviction (which would also garbage-collect the test images).
const NO_DISK_EVICTION: &str = "memory.available<100Mi";

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Root and every program in `programs`; prints why not.
fn can_run(programs: &[&str]) -> bool {
    let missing: Vec<&&str> = programs.iter().filter(|p| !Path::new(p).exists()).collect();
    let runc = Command::new("runc").arg("--version").output().is_ok();
    if !is_root() || !missing.is_empty() || !runc {
        eprintln!("skipping: needs root, runc and {programs:?} (missing: {missing:?})");
        return false;
    }
    true
}

fn jsonpath(server: &Server, args: &[&str], path: &str) -> String {
    let mut all = vec!["get"];
    all.extend_from_slice(args);
    let expr = format!("jsonpath={path}");
    all.extend_from_slice(&["-o", &expr]);
    String::from_utf8_lossy(&server.kubectl(&all).stdout).into_owned()
}

fn wait_node_ready(server: &Server) {
    wait_until(server, "node Ready", Duration::from_secs(60), || {
        jsonpath(
            server,
            &["node", "r8s-e2e"],
            "{.status.conditions[?(@.type==\"Ready\")].status}",
        ) == "True"
    });
}

fn wait_pod_ready(server: &Server, name: &str) {
    let pod = format!("pod/{name}");
    let out = server.kubectl(&["wait", "--for=condition=Ready", &pod, "--timeout=60s"]);
    if !out.status.success() {
        let described = server.kubectl(&["describe", &pod]);
        panic!(
            "{pod} not Ready: {}\n{}\nserver log tail:\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&described.stdout),
            crate::harness::tail(&server.log())
        );
    }
}

/// `reason: message` of each event about pod `name`, oldest first.
fn pod_events(server: &Server, name: &str) -> Vec<String> {
    let out = server.ok(&[
        "get",
        "events",
        "--field-selector",
        &format!("involvedObject.name={name}"),
        "--sort-by=.metadata.creationTimestamp",
        "-o",
        "jsonpath={range .items[*]}{.reason}: {.message}{\"\\n\"}{end}",
    ]);
    out.lines().map(str::to_string).collect()
}

fn waiting_state(server: &Server, name: &str) -> (String, String) {
    // One read for both fields: two reads could straddle a status change.
    let both = jsonpath(
        server,
        &["pod", name],
        "{.status.containerStatuses[0].state.waiting.reason}{\"\\n\"}{.status.containerStatuses[0].state.waiting.message}",
    );
    let (reason, message) = both.split_once('\n').unwrap_or((both.as_str(), ""));
    (reason.to_string(), message.to_string())
}

fn run_ok(command: &mut Command, what: &str) -> String {
    let out = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn r8s() -> Command {
    Command::new(env!("CARGO_BIN_EXE_r8s"))
}

/// A child process killed (by its PID) when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Debian's docker-registry with filesystem storage under `dir`, on every address of the netns.
fn start_registry(server: &Server, dir: &Path) -> Killed {
    let config = dir.join("registry.yml");
    let storage = dir.join("registry-storage");
    std::fs::create_dir_all(&storage).expect("registry storage dir");
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 0.0.0.0:{REGISTRY_PORT}\n",
            storage.display()
        ),
    )
    .expect("registry config");
    let log = std::fs::File::create(dir.join("registry.log")).expect("registry log");
    let child = server
        .command("/usr/bin/docker-registry")
        .arg("serve")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start docker-registry");
    let registry = Killed(child);
    wait_until(
        server,
        "registry answering",
        Duration::from_secs(20),
        || {
            server
                .command("/bin/busybox")
                .args([
                    "wget",
                    "-qO-",
                    &format!("http://127.0.0.1:{REGISTRY_PORT}/v2/"),
                ])
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false)
        },
    );
    registry
}

fn busybox_archive(server: &Server) -> PathBuf {
    server.data_dir().join("agent/images/busybox.tar")
}

#[test]
fn node_pulls_and_imports_images() {
    if !can_run(&[
        "/bin/busybox",
        "/usr/lib/cni/bridge",
        "/usr/bin/docker-registry",
        "/usr/bin/skopeo",
    ]) {
        return;
    }
    let started = Instant::now();
    let node_registry = format!("{NODE_IP}:{REGISTRY_PORT}");
    let server = Server::start_with_node(&[
        "--insecure-registry",
        &node_registry,
        "--eviction-hard",
        NO_DISK_EVICTION,
    ]);
    let _registry = start_registry(&server, server.dir.path());
    let pushed = format!("127.0.0.1:{REGISTRY_PORT}/test/busybox:pull");
    run_ok(
        server.command("skopeo").args([
            "copy",
            "--insecure-policy",
            "--dest-tls-verify=false",
            &format!("oci-archive:{}", path_str(&busybox_archive(&server))),
            &format!("docker://{pushed}"),
        ]),
        "skopeo copy to the registry",
    );
    wait_node_ready(&server);

    // Pulled from the registry on loopback (plain HTTP without any flag).
    server.ok(&[
        "run",
        "pulled",
        "--image",
        &pushed,
        "--image-pull-policy=Always",
        NO_TOKEN,
        "--",
        "sleep",
        "3600",
    ]);
    wait_pod_ready(&server, "pulled");
    let events = pod_events(&server, "pulled");
    assert!(
        events.contains(&format!("Pulling: Pulling image \"{pushed}\"")),
        "{events:#?}"
    );
    let pulled_prefix = format!("Pulled: Successfully pulled image \"{pushed}\" in ");
    assert!(
        events
            .iter()
            .any(|e| e.starts_with(&pulled_prefix) && e.contains("Image size: ")),
        "{events:#?}"
    );
    let image_id = jsonpath(
        &server,
        &["pod", "pulled"],
        "{.status.containerStatuses[0].imageID}",
    );
    let repo_digest = format!("127.0.0.1:{REGISTRY_PORT}/test/busybox@sha256:");
    assert!(
        image_id.starts_with(&repo_digest) && image_id.len() == repo_digest.len() + 64,
        "imageID is the repo digest: {image_id}"
    );

    // The node's own address is plain HTTP only through --insecure-registry.
    let via_node_ip = format!("{node_registry}/test/busybox:pull");
    server.ok(&[
        "run",
        "via-node-ip",
        "--image",
        &via_node_ip,
        "--image-pull-policy=Always",
        NO_TOKEN,
        "--",
        "sleep",
        "3600",
    ]);
    wait_pod_ready(&server, "via-node-ip");

    // A tag the registry does not have: ErrImagePull, then ImagePullBackOff.
    let missing = format!("127.0.0.1:{REGISTRY_PORT}/test/busybox:nope");
    server.ok(&[
        "run", "missing", "--image", &missing, NO_TOKEN, "--", "sleep", "3600",
    ]);
    let mut seen_err_image_pull = None;
    wait_until(
        &server,
        "missing: ErrImagePull then ImagePullBackOff",
        Duration::from_secs(60),
        || {
            let (reason, message) = waiting_state(&server, "missing");
            if reason == "ErrImagePull" {
                seen_err_image_pull = Some(message);
                return false;
            }
            reason == "ImagePullBackOff"
        },
    );
    let events = pod_events(&server, "missing");
    let failed = format!(
        "Failed: Failed to pull image \"{missing}\": rpc error: code = NotFound desc = failed to pull and unpack image \"{missing}\": failed to resolve reference \"{missing}\": {missing}: not found"
    );
    assert!(events.contains(&failed), "{events:#?}");
    assert!(
        events.contains(&"Failed: Error: ErrImagePull".to_string()),
        "{events:#?}"
    );
    if let Some(message) = seen_err_image_pull {
        assert!(
            message.starts_with("rpc error: code = NotFound desc = failed to pull and unpack"),
            "{message}"
        );
    }
    let (_, backoff_message) = waiting_state(&server, "missing");
    assert!(
        backoff_message.starts_with(&format!("Back-off pulling image \"{missing}\"")),
        "{backoff_message}"
    );

    // Archives imported by `r8s image import` while the node runs: no pull needed.
    let imported = server.dir.path().join("imported.tar");
    run_ok(
        r8s()
            .args([
                "image",
                "build-busybox",
                "--reference",
                "docker.io/library/imported:v1",
                "--cmd",
                "sleep",
                "--cmd",
                "3600",
            ])
            .arg(&imported),
        "r8s image build-busybox",
    );
    let docker_format = server.dir.path().join("docker-format.tar");
    run_ok(
        Command::new("skopeo").args([
            "copy",
            "--insecure-policy",
            &format!("oci-archive:{}", path_str(&busybox_archive(&server))),
            &format!(
                "docker-archive:{}:docker.io/library/dockerformat:v1",
                path_str(&docker_format)
            ),
        ]),
        "skopeo copy to a docker archive",
    );
    for (archive, name) in [
        (&imported, "docker.io/library/imported:v1"),
        (&docker_format, "docker.io/library/dockerformat:v1"),
    ] {
        let out = run_ok(
            r8s()
                .args(["image", "import"])
                .arg(archive)
                .arg("--data-dir")
                .arg(server.data_dir()),
            "r8s image import",
        );
        assert!(out.contains(name), "import names {name}: {out}");
    }
    let manifest = crate::harness::manifest(
        &server,
        "imported.yaml",
        r#"apiVersion: v1
kind: Pod
metadata:
  name: imported
spec:
  automountServiceAccountToken: false
  containers:
  - name: main
    image: imported:v1
    imagePullPolicy: IfNotPresent
  - name: docker-format
    image: dockerformat:v1
    imagePullPolicy: Never
    command: ["sleep", "3600"]
"#,
    );
    server.ok(&["apply", "-f", path_str(&manifest)]);
    wait_pod_ready(&server, "imported");
    let events = pod_events(&server, "imported");
    assert!(
        events.contains(
            &"Pulled: Container image \"imported:v1\" already present on machine".to_string()
        ),
        "{events:#?}"
    );
    assert!(
        !events.iter().any(|e| e.starts_with("Pulling")),
        "{events:#?}"
    );

    // Node status lists the images with their sizes (at most five names per image: the pulled,
    // pushed and converted busybox images are one image under many names).
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let last_images = jsonpath(&server, &["node", "r8s-e2e"], "{.status.images}");
        let images: serde_json::Value =
            serde_json::from_str(&last_images).unwrap_or(serde_json::Value::Null);
        let entries = images.as_array().cloned().unwrap_or_default();
        let names: Vec<String> = entries
            .iter()
            .flat_map(|i| i["names"].as_array().cloned().unwrap_or_default())
            .filter_map(|n| n.as_str().map(str::to_string))
            .collect();
        let sized = entries
            .iter()
            .all(|i| i["sizeBytes"].as_i64().unwrap_or(0) > 0);
        if sized
            && names.iter().any(|n| n == "docker.io/library/imported:v1")
            && names.iter().any(|n| n.starts_with(&repo_digest))
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "node status images: {last_images}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }

    server.ok(&[
        "delete",
        "pod",
        "pulled",
        "via-node-ip",
        "missing",
        "imported",
        "--grace-period=1",
    ]);
    wait_until(&server, "all pods gone", Duration::from_secs(60), || {
        server.ok(&["get", "pods", "-o", "name"]).trim().is_empty()
    });
    eprintln!("images test took {:?}", started.elapsed());
}

/// containerd as the node's CRI runtime, started inside the test's network namespace with its
/// root, state, socket, runc root and CNI config under `dir`; killed and cleaned up when dropped.
struct Containerd {
    dir: PathBuf,
    process: Option<Killed>,
}

/// The CRI sandbox image containerd runs for every pod: busybox whose command never returns.
const CONTAINERD_SANDBOX_IMAGE: &str = "docker.io/library/pause:r8s";

impl Containerd {
    fn socket(dir: &Path) -> PathBuf {
        dir.join("containerd.sock")
    }

    fn start(server: &Server, dir: &Path) -> Self {
        let cni_dir = dir.join("cni");
        std::fs::create_dir_all(&cni_dir).expect("CNI config dir");
        std::fs::write(
            cni_dir.join("10-r8s-ctd.conflist"),
            format!(
                r#"{{"cniVersion":"0.4.0","name":"r8s-ctd-e2e","plugins":[{{"type":"bridge","bridge":"ctd0","isGateway":true,"ipMasq":false,"ipam":{{"type":"host-local","ranges":[[{{"subnet":"10.88.0.0/24"}}]],"routes":[{{"dst":"0.0.0.0/0"}}],"dataDir":"{}"}}}}]}}"#,
                dir.join("ipam").display()
            ),
        )
        .expect("CNI conflist");
        let config = dir.join("config.toml");
        std::fs::write(
            &config,
            format!(
                r#"version = 2
root = "{d}/root"
state = "{d}/state"
[grpc]
  address = "{d}/containerd.sock"
[ttrpc]
  address = "{d}/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "{d}/opt"
[plugins."io.containerd.grpc.v1.cri"]
  restrict_oom_score_adj = true
  systemd_cgroup = false
  netns_mounts_under_state_dir = true
  sandbox_image = "{sandbox}"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "{d}/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "{d}/cni"
"#,
                d = dir.display(),
                sandbox = CONTAINERD_SANDBOX_IMAGE,
            ),
        )
        .expect("containerd config");
        let log = std::fs::File::create(dir.join("containerd.log")).expect("containerd log");
        let child = server
            .command("containerd")
            .arg("--config")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start containerd");
        let containerd = Containerd {
            dir: dir.to_path_buf(),
            process: Some(Killed(child)),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while !Self::socket(dir).exists() {
            assert!(
                Instant::now() < deadline,
                "containerd did not start: {}",
                containerd.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        containerd
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("containerd.log")).unwrap_or_default()
    }

    fn ctr(&self) -> Command {
        let mut command = Command::new("ctr");
        command
            .arg("-a")
            .arg(Self::socket(&self.dir))
            .args(["-n", "k8s.io"]);
        command
    }

    fn import(&self, archive: &Path) {
        run_ok(
            self.ctr().args(["images", "import"]).arg(archive),
            "ctr images import",
        );
    }

    /// Ids of containerd's containers (sandboxes included) in the k8s.io namespace.
    fn containers(&self) -> Vec<String> {
        let out = self
            .ctr()
            .args(["containers", "ls", "-q"])
            .output()
            .expect("ctr containers ls");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// PIDs of the runc shims serving this containerd.
    fn shims(&self) -> Vec<u32> {
        let address = Self::socket(&self.dir).to_string_lossy().into_owned();
        let mut pids = Vec::new();
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let args: Vec<String> = cmdline
                .split(|b| *b == 0)
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            let is_shim = args
                .first()
                .is_some_and(|a| a.ends_with("containerd-shim-runc-v2"));
            if is_shim && args.contains(&address) {
                pids.push(pid);
            }
        }
        pids
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        self.process.take();
        for pid in self.shims() {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
        let runc_root = self.dir.join("runc");
        for namespace in std::fs::read_dir(&runc_root)
            .into_iter()
            .flatten()
            .flatten()
        {
            let root = namespace.path();
            let listed = Command::new("runc")
                .arg("--root")
                .arg(&root)
                .args(["list", "-q"])
                .output();
            for id in listed
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_default()
                .lines()
            {
                let _ = Command::new("runc")
                    .arg("--root")
                    .arg(&root)
                    .args(["delete", "--force", id])
                    .status();
            }
        }
        for mount_point in crate::node_cleanup::mounts_under(&self.dir) {
            let _ = Command::new("umount").arg("-l").arg(&mount_point).status();
        }
    }
}

#[test]
fn node_runs_on_containerd() {
    if !can_run(&[
        "/bin/busybox",
        "/usr/lib/cni/bridge",
        "/usr/bin/containerd",
        "/usr/bin/ctr",
        "/usr/bin/containerd-shim-runc-v2",
    ]) {
        return;
    }
    let started = Instant::now();
    let containerd_dir = tempfile::tempdir().expect("containerd temp dir");
    let endpoint = format!(
        "unix://{}",
        Containerd::socket(containerd_dir.path()).display()
    );
    let server = Server::start_with_node(&[
        "--container-runtime-endpoint",
        &endpoint,
        "--eviction-hard",
        NO_DISK_EVICTION,
    ]);
    let containerd = Containerd::start(&server, containerd_dir.path());
    let sandbox_archive = containerd_dir.path().join("pause.tar");
    run_ok(
        r8s()
            .args([
                "image",
                "build-busybox",
                "--reference",
                CONTAINERD_SANDBOX_IMAGE,
                "--cmd",
                "sleep",
                "--cmd",
                "infinity",
            ])
            .arg(&sandbox_archive),
        "r8s image build-busybox (sandbox image)",
    );
    containerd.import(&sandbox_archive);
    containerd.import(&busybox_archive(&server));
    wait_node_ready(&server);
    let runtime = jsonpath(
        &server,
        &["node", "r8s-e2e"],
        "{.status.nodeInfo.containerRuntimeVersion}",
    );
    assert!(runtime.starts_with("containerd://"), "{runtime}");

    // A pod that prints and exits, read back through the kubelet from containerd's log files.
    server.ok(&[
        "run",
        "ctd-hello",
        "--image",
        BUSYBOX,
        "--restart=Never",
        NO_TOKEN,
        "--",
        "sh",
        "-c",
        "echo hello from containerd",
    ]);
    wait_until(
        &server,
        "ctd-hello Succeeded",
        Duration::from_secs(60),
        || jsonpath(&server, &["pod", "ctd-hello"], "{.status.phase}") == "Succeeded",
    );
    assert_eq!(server.ok(&["logs", "ctd-hello"]), "hello from containerd\n");

    // A long-running pod: Running with an IP from containerd's CNI network, exec through the
    // kubelet's proxy to containerd's streaming server.
    server.ok(&[
        "run",
        "ctd-sleeper",
        "--image",
        BUSYBOX,
        NO_TOKEN,
        "--",
        "sleep",
        "3600",
    ]);
    wait_pod_ready(&server, "ctd-sleeper");
    let ip = jsonpath(&server, &["pod", "ctd-sleeper"], "{.status.podIP}");
    assert!(
        ip.starts_with("10.88.0."),
        "pod IP from containerd's CNI: {ip}"
    );
    let container_id = jsonpath(
        &server,
        &["pod", "ctd-sleeper"],
        "{.status.containerStatuses[0].containerID}",
    );
    assert!(container_id.starts_with("containerd://"), "{container_id}");
    let image_id = jsonpath(
        &server,
        &["pod", "ctd-sleeper"],
        "{.status.containerStatuses[0].imageID}",
    );
    eprintln!("containerd imageID: {image_id}");
    let out = server.ok(&["exec", "ctd-sleeper", "--", "sh", "-c", "echo $((40+2))"]);
    assert_eq!(out.trim(), "42");
    let failed = server.kubectl(&["exec", "ctd-sleeper", "--", "sh", "-c", "exit 3"]);
    assert_eq!(
        failed.status.code(),
        Some(3),
        "exec exit code passes through"
    );

    // Deleting the pods removes their containers and sandboxes from containerd.
    server.ok(&[
        "delete",
        "pod",
        "ctd-hello",
        "ctd-sleeper",
        "--grace-period=1",
    ]);
    wait_until(&server, "all pods gone", Duration::from_secs(60), || {
        server.ok(&["get", "pods", "-o", "name"]).trim().is_empty()
    });
    wait_until(
        &server,
        "no containerd containers",
        Duration::from_secs(30),
        || containerd.containers().is_empty(),
    );
    eprintln!("containerd test took {:?}", started.elapsed());
}
