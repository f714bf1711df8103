//! Images on a real node: pulls from a local registry (Debian's docker-registry inside the test's
//! network namespace), `r8s image import` while the node runs, node status images, and the
//! kubelet driving containerd instead of r8s's own runtime.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{path_str, Server};
use crate::netns::NODE_IP;
use crate::node_agent::BUSYBOX;

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
    let missing: Vec<&&str> = programs
        .iter()
        .filter(|p| !Path::new(p).exists())
        .collect();
    let runc = Command::new("runc").arg("--version").output().is_ok();
    if !is_root() || !missing.is_empty() || !runc {
        eprintln!("skipping: needs root, runc and {programs:?} (missing: {missing:?})");
        return false;
    }
    true
}

fn wait_until(server: &Server, what: &str, timeout: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !check() {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}\nserver log tail:\n{}",
            crate::harness::tail(&server.log())
        );
        std::thread::sleep(Duration::from_millis(200));
    }
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
    let reason = jsonpath(
        server,
        &["pod", name],
        "{.status.containerStatuses[0].state.waiting.reason}",
    );
    let message = jsonpath(
        server,
        &["pod", name],
        "{.status.containerStatuses[0].state.waiting.message}",
    );
    (reason, message)
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
    wait_until(server, "registry answering", Duration::from_secs(20), || {
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
    });
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

    // Node status lists the images with their sizes.
    wait_until(
        &server,
        "node status images",
        Duration::from_secs(30),
        || {
            let images = jsonpath(&server, &["node", "r8s-e2e"], "{.status.images}");
            let Ok(images) = serde_json::from_str::<serde_json::Value>(&images) else {
                return false;
            };
            let names: Vec<String> = images
                .as_array()
                .into_iter()
                .flatten()
                .filter(|i| i["sizeBytes"].as_i64().unwrap_or(0) > 0)
                .flat_map(|i| i["names"].as_array().cloned().unwrap_or_default())
                .filter_map(|n| n.as_str().map(str::to_string))
                .collect();
            [
                "docker.io/library/imported:v1",
                "docker.io/library/dockerformat:v1",
                BUSYBOX,
                &pushed,
            ]
            .iter()
            .all(|want| names.iter().any(|n| n == want))
                && names.iter().any(|n| n.starts_with(&repo_digest))
        },
    );

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
