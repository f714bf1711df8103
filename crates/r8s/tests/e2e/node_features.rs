//! Kubelet features on the real node agent: container log rotation, sidecar containers, host
//! namespaces, hostPort and sysctls, and the pod cgroups of each QoS class.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::harness::{manifest, path_str, Server};
use crate::netns::NODE_IP;
use crate::node_agent::BUSYBOX;
use crate::node_support::{can_run_containers, wait_until};

const CGROUP_FS: &str = "/sys/fs/cgroup";

fn has_iptables() -> bool {
    Command::new("iptables")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn jsonpath(server: &Server, kind_name: &[&str], path: &str) -> String {
    let mut args = vec!["get"];
    args.extend_from_slice(kind_name);
    let expr = format!("jsonpath={path}");
    args.extend(["-o", expr.as_str()]);
    String::from_utf8_lossy(&server.kubectl(&args).stdout).into_owned()
}

fn sh_in(server: &Server, pod: &str, container: &str, script: &str) -> String {
    let out = server.kubectl(&["exec", pod, "-c", container, "--", "sh", "-c", script]);
    assert!(
        out.status.success(),
        "exec in {pod}/{container}: {script}\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const SLEEP: &str = r#"command: [sh, -c, "trap 'exit 0' TERM; sleep 3600 & wait"]"#;

fn pods() -> String {
    let image = BUSYBOX;
    format!(
        r#"
apiVersion: v1
kind: Pod
metadata: {{name: logger}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: {image}
    command: [sh, -c, "i=0; while [ $i -lt 2000 ]; do echo burst-$i-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa; i=$((i+1)); done; i=0; trap 'exit 0' TERM; while true; do echo tick-$i; i=$((i+1)); sleep 0.2; done"]
---
apiVersion: v1
kind: Pod
metadata: {{name: sidecar}}
spec:
  terminationGracePeriodSeconds: 2
  initContainers:
  - name: first
    image: {image}
    command: [sh, -c, "cut -d' ' -f1 /proc/uptime > /shared/first"]
    volumeMounts: [{{name: shared, mountPath: /shared}}]
  - name: side
    image: {image}
    restartPolicy: Always
    command: [sh, -c, "cut -d' ' -f1 /proc/uptime >> /shared/side; trap 'exit 3' USR1; trap 'if test -f /shared/main-stopped; then echo after; else echo before; fi > /shared/side-stopped; exit 0' TERM; sleep 3600 & wait"]
    startupProbe:
      exec: {{command: [sh, -c, "test -f /shared/side"]}}
      periodSeconds: 1
    volumeMounts: [{{name: shared, mountPath: /shared}}]
  - name: second
    image: {image}
    command: [sh, -c, "test -f /shared/side && cut -d' ' -f1 /proc/uptime > /shared/second"]
    volumeMounts: [{{name: shared, mountPath: /shared}}]
  containers:
  - name: main
    image: {image}
    command: [sh, -c, "trap 'touch /shared/main-stopped; exit 0' TERM; sleep 3600 & wait"]
    volumeMounts: [{{name: shared, mountPath: /shared}}]
  volumes: [{{name: shared, hostPath: {{path: "{{SHARED}}", type: DirectoryOrCreate}}}}]
---
apiVersion: batch/v1
kind: Job
metadata: {{name: with-sidecar}}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      initContainers:
      - name: side
        image: {image}
        restartPolicy: Always
        {SLEEP}
      containers:
      - name: main
        image: {image}
        command: [sh, -c, "sleep 1; echo finished"]
---
apiVersion: v1
kind: Pod
metadata: {{name: hostns}}
spec:
  terminationGracePeriodSeconds: 1
  hostNetwork: true
  hostPID: true
  hostIPC: true
  containers:
  - name: c
    image: {image}
    {SLEEP}
---
apiVersion: v1
kind: Pod
metadata: {{name: hostport}}
spec:
  terminationGracePeriodSeconds: 1
  securityContext:
    sysctls: [{{name: net.core.somaxconn, value: "1234"}}]
  containers:
  - name: c
    image: {image}
    command: [sh, -c, "mkdir -p /www; echo hello-hostport > /www/index.html; exec httpd -f -p 8080 -h /www"]
    ports: [{{containerPort: 8080, hostPort: 30080}}]
---
apiVersion: v1
kind: Pod
metadata: {{name: guaranteed}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: {image}
    {SLEEP}
    resources: {{limits: {{cpu: 100m, memory: 64Mi}}, requests: {{cpu: 100m, memory: 64Mi}}}}
---
apiVersion: v1
kind: Pod
metadata: {{name: burstable}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: {image}
    {SLEEP}
    resources: {{requests: {{cpu: 50m}}}}
"#
    )
}

fn uid(server: &Server, pod: &str) -> String {
    jsonpath(server, &["pod", pod], "{.metadata.uid}")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
        .trim()
        .to_string()
}

fn rotated_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("0.log."))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn check_log_rotation(server: &Server, log_root: &Path) {
    let dir: PathBuf = log_root
        .join(format!("default_logger_{}", uid(server, "logger")))
        .join("c");
    wait_until(
        server,
        "the logger's log to be rotated",
        Duration::from_secs(40),
        || !rotated_files(&dir).is_empty(),
    );
    let current = dir.join("0.log");
    let size_after_rotation = std::fs::metadata(&current).map(|m| m.len()).unwrap_or(0);
    assert!(
        size_after_rotation < 100 * 1024,
        "the current log is small again: {size_after_rotation}"
    );
    // The shim reopened the file: new lines land in the fresh 0.log.
    wait_until(
        server,
        "new lines in the reopened log",
        Duration::from_secs(10),
        || {
            // Two whole lines at least, for the --tail 2 below.
            std::fs::read_to_string(&current).is_ok_and(|t| t.matches("tick-").count() >= 2)
                && std::fs::metadata(&current).map(|m| m.len()).unwrap_or(0) > size_after_rotation
        },
    );
    let rotated = rotated_files(&dir);
    let first = std::fs::read_to_string(dir.join(&rotated[0])).unwrap_or_default();
    assert!(
        first.contains("burst-0-"),
        "the rotated file holds the old lines"
    );
    let logs = server.ok(&["logs", "logger", "--tail", "2"]);
    assert!(
        logs.lines().count() == 2 && logs.lines().all(|l| l.starts_with("tick-")),
        "kubectl logs reads the current file: {logs}"
    );
    let all = server.ok(&["logs", "logger"]);
    assert!(
        !all.contains("burst-0-"),
        "rotated lines are not in kubectl logs"
    );
}

fn container_status(server: &Server, pod: &str, init: bool, name: &str, field: &str) -> String {
    let list = if init {
        "initContainerStatuses"
    } else {
        "containerStatuses"
    };
    jsonpath(
        server,
        &["pod", pod],
        &format!("{{.status.{list}[?(@.name==\"{name}\")].{field}}}"),
    )
}

fn check_sidecars(server: &Server, shared: &Path) {
    server.ok(&[
        "wait",
        "--for=condition=Ready",
        "--timeout=60s",
        "pod/sidecar",
    ]);
    let uptime = |file: &str| -> f64 {
        let text = read(&shared.join(file));
        text.lines().next().unwrap_or_default().parse().unwrap()
    };
    let (first, side, second) = (uptime("first"), uptime("side"), uptime("second"));
    assert!(
        first <= side && side < second,
        "init order: {first} {side} {second}"
    );
    assert_eq!(
        container_status(server, "sidecar", true, "side", "started"),
        "true"
    );
    assert_eq!(
        container_status(server, "sidecar", true, "side", "ready"),
        "true"
    );
    assert!(!container_status(server, "sidecar", true, "side", "state.running").is_empty());
    assert_eq!(
        container_status(server, "sidecar", true, "second", "state.terminated.reason"),
        "Completed"
    );
    assert_eq!(
        container_status(server, "sidecar", true, "second", "started"),
        "false"
    );
    // An exited sidecar is restarted while the app keeps running. The exec's own shell may be
    // killed with the container's PID 1 before it reports (exit 137): its status says nothing.
    let _ = server.kubectl(&["exec", "sidecar", "-c", "side", "--", "kill", "-USR1", "1"]);
    wait_until(
        server,
        "the sidecar restarted",
        Duration::from_secs(40),
        || {
            container_status(server, "sidecar", true, "side", "restartCount") == "1"
                && !container_status(server, "sidecar", true, "side", "state.running").is_empty()
        },
    );
    assert_eq!(
        container_status(
            server,
            "sidecar",
            true,
            "side",
            "lastState.terminated.exitCode"
        ),
        "3"
    );
    assert_eq!(
        container_status(server, "sidecar", false, "main", "restartCount"),
        "0"
    );

    server.ok(&[
        "wait",
        "--for=condition=complete",
        "--timeout=60s",
        "job/with-sidecar",
    ]);
}

fn check_sidecar_stops_last(server: &Server, shared: &Path) {
    server.ok(&["delete", "pod", "sidecar", "--wait=true", "--timeout=60s"]);
    assert_eq!(
        read(&shared.join("side-stopped")),
        "after",
        "the sidecar stops after the app container"
    );
}

fn check_host_namespaces(server: &Server) {
    server.ok(&[
        "wait",
        "--for=condition=Ready",
        "--timeout=60s",
        "pod/hostns",
        "pod/hostport",
    ]);
    assert_eq!(
        jsonpath(server, &["pod", "hostns"], "{.status.podIP}"),
        NODE_IP
    );
    let addrs = sh_in(server, "hostns", "c", "ip addr");
    assert!(
        addrs.contains("node0") && addrs.contains(&format!("inet {NODE_IP}/24")),
        "{addrs}"
    );
    // hostPID: the server's own process is visible; hostIPC: the host's IPC namespace.
    let pid = server.pid();
    sh_in(server, "hostns", "c", &format!("test -d /proc/{pid}"));
    let ipc = sh_in(server, "hostns", "c", "readlink /proc/self/ns/ipc");
    let host_ipc = std::fs::read_link("/proc/self/ns/ipc").unwrap();
    assert_eq!(ipc.trim(), host_ipc.to_string_lossy());

    let somaxconn = sh_in(server, "hostport", "c", "cat /proc/sys/net/core/somaxconn");
    assert_eq!(somaxconn.trim(), "1234");
    if !has_iptables() {
        eprintln!("skipping the hostPort check: the portmap CNI plugin needs iptables");
        return;
    }
    // curl, not busybox-static's wget, which crashes on this host.
    if Command::new("curl").arg("--version").output().is_err() {
        eprintln!("skipping the hostPort check: curl is missing");
        return;
    }
    let url = format!("http://{NODE_IP}:30080/");
    let mut body = String::new();
    wait_until(
        server,
        "the hostPort to answer",
        Duration::from_secs(20),
        || {
            let out = server
                .command("curl")
                .args(["-s", "-m", "2", &url])
                .output()
                .expect("curl");
            body = String::from_utf8_lossy(&out.stdout).into_owned();
            body.contains("hello-hostport")
        },
    );
}

fn check_pod_cgroups(server: &Server) -> Vec<PathBuf> {
    server.ok(&[
        "wait",
        "--for=condition=Ready",
        "--timeout=60s",
        "pod/guaranteed",
        "pod/burstable",
    ]);
    assert_eq!(
        jsonpath(server, &["pod", "guaranteed"], "{.status.qosClass}"),
        "Guaranteed"
    );
    let cgroups = Path::new(CGROUP_FS);
    let guaranteed = format!("kubepods/pod{}", uid(server, "guaranteed"));
    let burstable = format!("kubepods/burstable/pod{}", uid(server, "burstable"));
    if cgroups.join("memory").is_dir() {
        let memory = cgroups.join("memory").join(&guaranteed);
        assert_eq!(read(&memory.join("memory.limit_in_bytes")), "67108864");
        let cpu = cgroups.join("cpu").join(&guaranteed);
        assert_eq!(read(&cpu.join("cpu.cfs_quota_us")), "10000");
        assert_eq!(read(&cpu.join("cpu.shares")), "102");
        let cpu = cgroups.join("cpu").join(&burstable);
        assert_eq!(read(&cpu.join("cpu.shares")), "51");
        assert_eq!(read(&cpu.join("cpu.cfs_quota_us")), "-1");
        vec![memory, cgroups.join("cpu").join(&guaranteed), cpu]
    } else {
        let dir = cgroups.join(&guaranteed);
        assert_eq!(read(&dir.join("memory.max")), "67108864");
        assert_eq!(read(&dir.join("cpu.max")), "10000 100000");
        assert!(cgroups.join(&burstable).is_dir());
        vec![dir, cgroups.join(&burstable)]
    }
}

#[test]
fn node_features() {
    if !can_run_containers() {
        return;
    }
    let server = Server::start_with_node(&["--container-log-max-size", "100Ki"]);
    let test_dir = server.data_dir().parent().unwrap().to_path_buf();
    let shared = test_dir.join("sidecar-shared");
    let yaml = pods().replace("{SHARED}", path_str(&shared));
    let file = manifest(&server, "features.yaml", &yaml);
    wait_until(&server, "node Ready", Duration::from_secs(30), || {
        jsonpath(
            &server,
            &["node", "r8s-e2e"],
            "{.status.conditions[?(@.type==\"Ready\")].status}",
        ) == "True"
    });
    server.ok(&["apply", "-f", path_str(&file)]);

    let cgroups = check_pod_cgroups(&server);
    check_host_namespaces(&server);
    check_sidecars(&server, &shared);
    check_log_rotation(&server, &test_dir.join("pod-logs"));
    check_sidecar_stops_last(&server, &shared);

    // Every pod goes, so that no pod cgroup of this test stays behind.
    let uids = jsonpath(&server, &["pods"], "{.items[*].metadata.uid}");
    server.ok(&[
        "delete",
        "job",
        "with-sidecar",
        "--cascade=foreground",
        "--wait=true",
    ]);
    server.ok(&["delete", "pods", "--all", "--wait=true", "--timeout=60s"]);
    wait_until(
        &server,
        "the pod cgroups to be removed",
        Duration::from_secs(20),
        || {
            cgroups.iter().all(|c| !c.exists())
                && uids.split_whitespace().all(|uid| {
                    ["cpu", "memory", "pids"].iter().all(|controller| {
                        let root = Path::new(CGROUP_FS).join(controller).join("kubepods");
                        let pod = format!("pod{uid}");
                        !root.join(&pod).exists()
                            && !root.join("burstable").join(&pod).exists()
                            && !root.join("besteffort").join(&pod).exists()
                    })
                })
        },
    );
}
