//! The local node agent of `r8s server` running real containers (runc, overlayfs, CNI bridge),
//! driven by real kubectl inside a network namespace of the test's own.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::harness::Server;
use crate::node_cleanup::{helper_processes, mounts_under};
use crate::node_support::{can_run_containers, wait_until};

/// The test image: Debian's static busybox, built into an OCI archive and imported at start.
pub const BUSYBOX: &str = "docker.io/library/busybox:1.35";

fn pod_phase(server: &Server, name: &str) -> String {
    let out = server.kubectl(&["get", "pod", name, "-o", "jsonpath={.status.phase}"]);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn wait_ready(server: &Server, what: &str) {
    server.ok(&["wait", "--for=condition=Ready", what, "--timeout=60s"]);
}

#[test]
fn node_runs_real_containers() {
    if !can_run_containers() {
        return;
    }
    let started = Instant::now();
    let server = Server::start_with_node(&[]);
    wait_until(
        &server,
        "node r8s-e2e Ready",
        Duration::from_secs(30),
        || {
            let out = server.kubectl(&[
                "get",
                "node",
                "r8s-e2e",
                "-o",
                "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}",
            ]);
            String::from_utf8_lossy(&out.stdout) == "True"
        },
    );
    eprintln!("node Ready {:?} after start", started.elapsed());

    // A pod that prints and exits: its output through kubectl logs.
    server.ok(&[
        "run",
        "hello",
        "--image",
        BUSYBOX,
        "--restart=Never",
        "--",
        "sh",
        "-c",
        "echo hello from r8s; echo to stderr >&2",
    ]);
    wait_until(
        &server,
        "pod hello Succeeded",
        Duration::from_secs(60),
        || pod_phase(&server, "hello") == "Succeeded",
    );
    let logs = server.ok(&["logs", "hello"]);
    assert_eq!(logs, "hello from r8s\nto stderr\n");

    // A long-running pod: exec with output and exit codes.
    server.ok(&["run", "sleeper", "--image", BUSYBOX, "--", "sleep", "3600"]);
    wait_ready(&server, "pod/sleeper");
    let out = server.ok(&["exec", "sleeper", "--", "sh", "-c", "echo $((40+2))"]);
    assert_eq!(out.trim(), "42");
    let failed = server.kubectl(&["exec", "sleeper", "--", "sh", "-c", "exit 3"]);
    assert_eq!(
        failed.status.code(),
        Some(3),
        "exec exit code passes through"
    );

    // Replicas with distinct pod IPs, reachable from the node.
    server.ok(&[
        "create",
        "deployment",
        "web",
        "--image",
        BUSYBOX,
        "--replicas=10",
        "--",
        "sh",
        "-c",
        "echo $HOSTNAME > /tmp/index.html; httpd -f -p 8080 -h /tmp",
    ]);
    server.ok(&["rollout", "status", "deployment/web", "--timeout=90s"]);
    let ips = server.ok(&[
        "get",
        "pods",
        "-l",
        "app=web",
        "-o",
        "jsonpath={range .items[*]}{.metadata.name} {.status.podIP}{\"\\n\"}{end}",
    ]);
    let pods: Vec<(String, String)> = ips
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(n, ip)| (n.to_string(), ip.to_string()))
        .collect();
    assert_eq!(pods.len(), 10, "ten web pods: {ips}");
    let mut distinct: Vec<&String> = pods.iter().map(|(_, ip)| ip).collect();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 10, "distinct pod IPs: {ips}");
    for (name, ip) in &pods {
        assert!(
            ip.starts_with("10.42."),
            "pod IP from the node's podCIDR: {ip}"
        );
        let answer = server
            .command("/bin/busybox")
            .args(["wget", "-qO-", &format!("http://{ip}:8080/index.html")])
            .output()
            .expect("run busybox wget");
        assert_eq!(
            String::from_utf8_lossy(&answer.stdout).trim(),
            name,
            "pod {name} answers on {ip}: {}",
            String::from_utf8_lossy(&answer.stderr)
        );
    }

    // kubectl port-forward to one of them answers on the node's loopback.
    let (first_pod, _) = &pods[0];
    let mut forward = server
        .command(crate::harness::KUBECTL)
        .env("KUBECONFIG", server.kubeconfig())
        .args(["port-forward", &format!("pod/{first_pod}"), "18080:8080"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start kubectl port-forward");
    let mut forwarded = String::new();
    for _ in 0..50 {
        let answer = server
            .command("/bin/busybox")
            .args(["wget", "-qO-", "http://127.0.0.1:18080/index.html"])
            .output()
            .expect("run busybox wget");
        forwarded = String::from_utf8_lossy(&answer.stdout).trim().to_string();
        if !forwarded.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = forward.kill();
    let _ = forward.wait();
    assert_eq!(&forwarded, first_pod, "port-forward reaches the pod");

    // kubectl cp both ways (tar over exec).
    let local = server.dir.path().join("to-pod.txt");
    std::fs::write(&local, "copied into the pod\n").expect("write local file");
    server.ok(&["cp", &local.to_string_lossy(), "sleeper:/tmp/copied.txt"]);
    let inside = server.ok(&["exec", "sleeper", "--", "cat", "/tmp/copied.txt"]);
    assert_eq!(inside, "copied into the pod\n");
    let back = server.dir.path().join("from-pod.txt");
    server.ok(&["cp", "sleeper:/tmp/copied.txt", &back.to_string_lossy()]);
    assert_eq!(
        std::fs::read_to_string(&back).expect("copied back"),
        "copied into the pod\n"
    );

    // kill -9 of r8s leaves containers running; the restarted agent adopts them.
    let before = server.ok(&[
        "get",
        "pod",
        "sleeper",
        "-o",
        "jsonpath={.status.containerStatuses[0].containerID} {.status.containerStatuses[0].restartCount}",
    ]);
    let mut server = server;
    server.kill_and_restart();
    std::thread::sleep(Duration::from_secs(3));
    wait_ready(&server, "pod/sleeper");
    let after = server.ok(&[
        "get",
        "pod",
        "sleeper",
        "-o",
        "jsonpath={.status.containerStatuses[0].containerID} {.status.containerStatuses[0].restartCount}",
    ]);
    assert_eq!(
        before, after,
        "the running container was adopted, not restarted"
    );
    let out = server.ok(&["exec", "sleeper", "--", "echo", "still here"]);
    assert_eq!(out.trim(), "still here");

    // Deleting everything leaves no container, shim, pause process, mount or veth behind.
    server.ok(&["delete", "deployment", "web"]);
    server.ok(&["delete", "pod", "hello", "sleeper", "--grace-period=1"]);
    wait_until(&server, "all pods gone", Duration::from_secs(60), || {
        server.ok(&["get", "pods", "-o", "name"]).trim().is_empty()
    });
    wait_until(
        &server,
        "no shim or pause process",
        Duration::from_secs(20),
        || helper_processes(server.dir.path()).is_empty(),
    );
    let agent_dir = server.data_dir().join("agent");
    let leftover: Vec<String> = mounts_under(&agent_dir.join("containers"))
        .into_iter()
        .chain(mounts_under(&agent_dir.join("sandboxes")))
        .collect();
    assert!(leftover.is_empty(), "mounts left behind: {leftover:?}");
    let netns = server
        .netns()
        .expect("node servers have a netns")
        .name
        .clone();
    let veths = Command::new("ip")
        .args(["-n", &netns, "-o", "link", "show", "type", "veth"])
        .output()
        .expect("ip link");
    let pod_veths: Vec<String> = String::from_utf8_lossy(&veths.stdout)
        .lines()
        .filter(|l| !l.contains("node0"))
        .map(str::to_string)
        .collect();
    assert!(pod_veths.is_empty(), "veths left behind: {pod_veths:?}");
}
