//! Container lifecycle on the real node, driven by real kubectl: OOM kills, restart back-off,
//! probes, lifecycle hooks, graceful deletion, init containers, Jobs and logs. Every pod is
//! created at once and the scenarios are checked one after the other while the others run.
//! The pods mount no service account token: nothing here needs one.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{Server, KUBECTL};
use crate::node_agent::BUSYBOX;
use crate::node_support::{can_run_containers, wait_until};

fn pod(server: &Server, name: &str) -> Value {
    server.get_json(&["pod", name])
}

fn container_status(pod: &Value) -> &Value {
    &pod["status"]["containerStatuses"][0]
}

fn restart_count(pod: &Value) -> i64 {
    container_status(pod)["restartCount"].as_i64().unwrap_or(0)
}

/// The STATUS column of `kubectl get pod`.
fn shown_status(server: &Server, name: &str) -> String {
    let out = server.kubectl(&["get", "pod", name, "--no-headers"]);
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .nth(2)
        .unwrap_or_default()
        .to_string()
}

/// (reason, message, count) of every event about `name`.
fn events(server: &Server, name: &str) -> Vec<(String, String, i64)> {
    let selector = format!("involvedObject.name={name}");
    let list = server.get_json(&["events", "--field-selector", &selector]);
    list["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|e| {
            (
                e["reason"].as_str().unwrap_or_default().to_string(),
                e["message"].as_str().unwrap_or_default().to_string(),
                e["count"].as_i64().unwrap_or(1),
            )
        })
        .collect()
}

fn has_event(server: &Server, name: &str, reason: &str, message_part: &str) -> bool {
    events(server, name)
        .iter()
        .any(|(r, m, _)| r == reason && m.contains(message_part))
}

fn manifests(hooks_dir: &str) -> String {
    format!(
        r#"
apiVersion: v1
kind: Pod
metadata: {{name: oom}}
spec:
  automountServiceAccountToken: false
  containers:
  - name: c
    image: {BUSYBOX}
    command: ["sh", "-c", "x=a; while true; do x=\"$x$x\"; done"]
    resources: {{limits: {{memory: 20Mi}}}}
---
apiVersion: v1
kind: Pod
metadata: {{name: create-error}}
spec:
  automountServiceAccountToken: false
  containers:
  - {{name: c, image: {BUSYBOX}, command: ["/no/such/binary"]}}
---
apiVersion: v1
kind: Pod
metadata: {{name: crash}}
spec:
  automountServiceAccountToken: false
  volumes: [{{name: data, emptyDir: {{}}}}]
  containers:
  - name: c
    image: {BUSYBOX}
    command: ["sh", "-c", "n=$(cat /data/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /data/n; echo run $n; exit 1"]
    volumeMounts: [{{name: data, mountPath: /data}}]
---
apiVersion: v1
kind: Pod
metadata: {{name: liveness}}
spec:
  automountServiceAccountToken: false
  terminationGracePeriodSeconds: 2
  containers:
  - name: c
    image: {BUSYBOX}
    command: ["sh", "-c", "touch /tmp/healthy; sleep 2; rm /tmp/healthy; sleep 3600"]
    livenessProbe:
      exec: {{command: ["cat", "/tmp/healthy"]}}
      periodSeconds: 1
      failureThreshold: 1
---
apiVersion: v1
kind: Pod
metadata: {{name: readiness}}
spec:
  automountServiceAccountToken: false
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: {BUSYBOX}
    command: ["sleep", "3600"]
    readinessProbe:
      exec: {{command: ["cat", "/tmp/ready"]}}
      periodSeconds: 1
---
apiVersion: v1
kind: Pod
metadata: {{name: startup}}
spec:
  automountServiceAccountToken: false
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: {BUSYBOX}
    command: ["sleep", "3600"]
    startupProbe:
      exec: {{command: ["cat", "/tmp/started"]}}
      periodSeconds: 1
      failureThreshold: 120
    livenessProbe:
      exec: {{command: ["cat", "/tmp/started"]}}
      periodSeconds: 1
      failureThreshold: 1
    readinessProbe:
      exec: {{command: ["cat", "/tmp/started"]}}
      periodSeconds: 1
---
apiVersion: v1
kind: Pod
metadata: {{name: startup-fails}}
spec:
  automountServiceAccountToken: false
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: {BUSYBOX}
    command: ["sleep", "3600"]
    startupProbe:
      exec: {{command: ["false"]}}
      periodSeconds: 1
      failureThreshold: 2
---
apiVersion: v1
kind: Pod
metadata: {{name: http}}
spec:
  automountServiceAccountToken: false
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: {BUSYBOX}
    command: ["sh", "-c", "mkdir /www; httpd -p 8080 -h /www; sleep 2; echo ok > /www/healthz; sleep 3600"]
    readinessProbe:
      httpGet: {{path: /healthz, port: 8080}}
      periodSeconds: 1
---
apiVersion: v1
kind: Pod
metadata: {{name: post-start}}
spec:
  automountServiceAccountToken: false
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: {BUSYBOX}
    command: ["sh", "-c", "while [ ! -f /tmp/hook ]; do sleep 0.1; done; echo saw $(cat /tmp/hook); sleep 3600"]
    lifecycle:
      postStart:
        exec: {{command: ["sh", "-c", "echo hooked > /tmp/hook"]}}
---
apiVersion: v1
kind: Pod
metadata: {{name: post-start-fails}}
spec:
  automountServiceAccountToken: false
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: {BUSYBOX}
    command: ["sleep", "3600"]
    lifecycle:
      postStart:
        exec: {{command: ["sh", "-c", "exit 7"]}}
---
apiVersion: v1
kind: Pod
metadata: {{name: pre-stop}}
spec:
  automountServiceAccountToken: false
  terminationGracePeriodSeconds: 10
  volumes: [{{name: hooks, hostPath: {{path: {hooks_dir}}}}}]
  containers:
  - name: c
    image: {BUSYBOX}
    command: ["sh", "-c", "trap 'echo term >> /hooks/log; exit 0' TERM; while true; do sleep 0.2; done"]
    volumeMounts: [{{name: hooks, mountPath: /hooks}}]
    lifecycle:
      preStop:
        exec: {{command: ["sh", "-c", "echo pre-stop >> /hooks/log"]}}
---
apiVersion: v1
kind: Pod
metadata: {{name: ignores-term}}
spec:
  automountServiceAccountToken: false
  terminationGracePeriodSeconds: 2
  containers:
  - name: c
    image: {BUSYBOX}
    command: ["sh", "-c", "trap '' TERM; while true; do sleep 0.2; done"]
---
apiVersion: v1
kind: Pod
metadata: {{name: init}}
spec:
  automountServiceAccountToken: false
  terminationGracePeriodSeconds: 1
  initContainers:
  - {{name: first, image: {BUSYBOX}, command: ["sh", "-c", "sleep 2; echo first done"]}}
  - {{name: second, image: {BUSYBOX}, command: ["sh", "-c", "sleep 2; echo second done"]}}
  containers:
  - {{name: app, image: {BUSYBOX}, command: ["sleep", "3600"]}}
---
apiVersion: v1
kind: Pod
metadata: {{name: init-fails}}
spec:
  automountServiceAccountToken: false
  restartPolicy: Never
  initContainers:
  - {{name: first, image: {BUSYBOX}, command: ["sh", "-c", "exit 3"]}}
  containers:
  - {{name: app, image: {BUSYBOX}, command: ["sleep", "3600"]}}
---
apiVersion: v1
kind: Pod
metadata: {{name: past-deadline}}
spec:
  automountServiceAccountToken: false
  activeDeadlineSeconds: 4
  terminationGracePeriodSeconds: 1
  containers:
  - {{name: app, image: {BUSYBOX}, command: ["sleep", "3600"]}}
---
apiVersion: batch/v1
kind: Job
metadata: {{name: completes}}
spec:
  completions: 3
  parallelism: 2
  template:
    spec:
      automountServiceAccountToken: false
      restartPolicy: Never
      containers: [{{name: c, image: {BUSYBOX}, command: ["sh", "-c", "echo done"]}}]
---
apiVersion: batch/v1
kind: Job
metadata: {{name: fails}}
spec:
  backoffLimit: 1
  template:
    spec:
      automountServiceAccountToken: false
      restartPolicy: Never
      containers: [{{name: c, image: {BUSYBOX}, command: ["sh", "-c", "exit 1"]}}]
---
apiVersion: v1
kind: Pod
metadata: {{name: follow}}
spec:
  automountServiceAccountToken: false
  restartPolicy: Never
  containers:
  - name: c
    image: {BUSYBOX}
    command: ["sh", "-c", "until [ -f /tmp/go ]; do sleep 0.2; done; for i in 1 2 3 4; do echo line $i; sleep 1; done"]
"#
    )
}

#[test]
fn node_container_lifecycle() {
    if !can_run_containers() {
        return;
    }
    let started = Instant::now();
    let server = Server::start_with_node(&[]);
    let hooks_dir = server.dir.path().join("hooks");
    std::fs::create_dir_all(&hooks_dir).expect("hooks dir");
    let manifest = server.dir.path().join("lifecycle.yaml");
    std::fs::write(&manifest, manifests(&hooks_dir.to_string_lossy())).expect("manifest");
    wait_until(
        &server,
        "the default service account",
        Duration::from_secs(30),
        || {
            server
                .kubectl(&["get", "serviceaccount", "default"])
                .status
                .success()
        },
    );
    server.ok(&["apply", "-f", &manifest.to_string_lossy()]);
    let applied = Instant::now();

    init_containers_run_in_order(&server);
    logs_follow_streams(&server);
    readiness_gates_ready(&server);
    startup_probe_delays_the_others(&server);
    http_readiness_probe(&server);
    post_start_hooks(&server);
    liveness_and_startup_failures_restart(&server);
    graceful_deletion(&server, &hooks_dir);
    init_failure_fails_the_pod(&server);
    active_deadline_fails_the_pod(&server);
    jobs_run_to_completion(&server);
    oom_kill_and_crash_loop(&server);
    create_errors_back_off(&server, applied.elapsed());
    previous_logs(&server);
    deletion_leaves_no_pod_cgroups(&server);
    eprintln!(
        "lifecycle scenarios done {:?} after start",
        started.elapsed()
    );
}

/// Init:0/2 → Init:1/2 → PodInitializing → Running, in that order, and their output.
fn init_containers_run_in_order(server: &Server) {
    let order = [
        "Pending",
        "Init:0/2",
        "Init:1/2",
        "PodInitializing",
        "Running",
    ];
    let mut seen: Vec<String> = Vec::new();
    wait_until(server, "pod init Running", Duration::from_secs(40), || {
        let status = shown_status(server, "init");
        if seen.last() != Some(&status) && !status.is_empty() {
            seen.push(status.clone());
        }
        status == "Running"
    });
    let positions: Vec<usize> = seen
        .iter()
        .map(|s| {
            order
                .iter()
                .position(|o| o == s)
                .unwrap_or_else(|| panic!("unexpected status {s} of pod init: {seen:?}"))
        })
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "statuses in order: {seen:?}"
    );
    assert!(
        seen.iter().any(|s| s.starts_with("Init:")),
        "init progress shown: {seen:?}"
    );
    assert_eq!(server.ok(&["logs", "init", "-c", "first"]), "first done\n");
    assert_eq!(
        server.ok(&["logs", "init", "-c", "second"]),
        "second done\n"
    );
    let pod = pod(server, "init");
    let inits = &pod["status"]["initContainerStatuses"];
    let first_done = inits[0]["state"]["terminated"]["finishedAt"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let second_started = inits[1]["state"]["terminated"]["startedAt"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        !first_done.is_empty() && second_started >= first_done,
        "second init container started after the first ended: {inits}"
    );
    for init in inits.as_array().cloned().unwrap_or_default() {
        assert_eq!(init["state"]["terminated"]["reason"], "Completed", "{init}");
    }
}

/// `kubectl logs -f` shows lines as they are written and ends when the container exits.
fn logs_follow_streams(server: &Server) {
    wait_until(
        server,
        "pod follow Running",
        Duration::from_secs(30),
        || pod(server, "follow")["status"]["phase"] == "Running",
    );
    let mut child = server
        .command(KUBECTL)
        .env("KUBECONFIG", server.kubeconfig())
        .args(["logs", "-f", "follow"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("kubectl logs -f");
    std::thread::sleep(Duration::from_secs(1));
    server.ok(&["exec", "follow", "--", "touch", "/tmp/go"]);
    let stdout = child.stdout.take().expect("piped stdout");
    let mut arrivals = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("a log line");
        arrivals.push((line, Instant::now()));
    }
    let status = child.wait().expect("kubectl logs -f exits");
    assert!(status.success(), "kubectl logs -f ended with {status}");
    let lines: Vec<&str> = arrivals.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(lines, ["line 1", "line 2", "line 3", "line 4"]);
    let spread = arrivals[3].1 - arrivals[0].1;
    assert!(
        spread >= Duration::from_secs(2),
        "lines arrived as written, not all at the end ({spread:?})"
    );
}

/// Not Ready until the readiness probe passes, then Ready.
fn readiness_gates_ready(server: &Server) {
    wait_until(
        server,
        "pod readiness Running",
        Duration::from_secs(30),
        || pod(server, "readiness")["status"]["phase"] == "Running",
    );
    std::thread::sleep(Duration::from_secs(2));
    let pod_now = pod(server, "readiness");
    assert_eq!(container_status(&pod_now)["ready"], false, "{pod_now}");
    server.ok(&["exec", "readiness", "--", "touch", "/tmp/ready"]);
    server.ok(&[
        "wait",
        "--for=condition=Ready",
        "pod/readiness",
        "--timeout=20s",
    ]);
}

/// A startup probe holds liveness and readiness back until it passes.
fn startup_probe_delays_the_others(server: &Server) {
    let pod_now = pod(server, "startup");
    let status = container_status(&pod_now);
    assert_eq!(status["started"], false, "{pod_now}");
    assert_eq!(status["ready"], false, "{pod_now}");
    assert_eq!(
        restart_count(&pod_now),
        0,
        "liveness waits for startup: {pod_now}"
    );
    server.ok(&["exec", "startup", "--", "touch", "/tmp/started"]);
    server.ok(&[
        "wait",
        "--for=condition=Ready",
        "pod/startup",
        "--timeout=20s",
    ]);
    let pod_now = pod(server, "startup");
    assert_eq!(container_status(&pod_now)["started"], true, "{pod_now}");
    assert_eq!(restart_count(&pod_now), 0, "{pod_now}");
}

/// An httpGet readiness probe reaches busybox httpd on the pod IP.
fn http_readiness_probe(server: &Server) {
    server.ok(&["wait", "--for=condition=Ready", "pod/http", "--timeout=30s"]);
}

/// postStart runs before the main process needs its file; a failing one kills the container.
fn post_start_hooks(server: &Server) {
    wait_until(server, "post-start output", Duration::from_secs(30), || {
        String::from_utf8_lossy(&server.kubectl(&["logs", "post-start"]).stdout) == "saw hooked\n"
    });
    wait_until(
        server,
        "FailedPostStartHook and a restart",
        Duration::from_secs(30),
        || {
            has_event(
                server,
                "post-start-fails",
                "FailedPostStartHook",
                "Exec lifecycle hook ([sh -c exit 7]) for Container \"c\" in Pod \"post-start-fails_default(",
            ) && restart_count(&pod(server, "post-start-fails")) >= 1
        },
    );
    assert!(has_event(
        server,
        "post-start-fails",
        "Killing",
        "FailedPostStartHook"
    ));
}

/// Failed liveness and startup probes restart the container with upstream's Killing event.
fn liveness_and_startup_failures_restart(server: &Server) {
    for (name, probe) in [("liveness", "liveness"), ("startup-fails", "startup")] {
        wait_until(
            server,
            &format!("pod {name} restarted by its {probe} probe"),
            Duration::from_secs(40),
            || {
                has_event(
                    server,
                    name,
                    "Killing",
                    &format!("Container c failed {probe} probe, will be restarted"),
                ) && restart_count(&pod(server, name)) >= 1
            },
        );
    }
    assert!(has_event(
        server,
        "liveness",
        "Unhealthy",
        "Liveness probe failed: cat: can't open '/tmp/healthy'"
    ));
}

/// preStop runs before SIGTERM; a container that ignores SIGTERM is killed after the grace period.
fn graceful_deletion(server: &Server, hooks_dir: &std::path::Path) {
    server.ok(&[
        "wait",
        "--for=condition=Ready",
        "pod/pre-stop",
        "--timeout=30s",
    ]);
    server.ok(&[
        "wait",
        "--for=condition=Ready",
        "pod/ignores-term",
        "--timeout=30s",
    ]);
    server.ok(&["delete", "pod", "pre-stop", "--timeout=30s"]);
    let log = std::fs::read_to_string(hooks_dir.join("log")).unwrap_or_default();
    assert_eq!(
        log, "pre-stop\nterm\n",
        "preStop ran, then SIGTERM reached the trap"
    );

    let deleting = Instant::now();
    server.ok(&["delete", "pod", "ignores-term", "--timeout=30s"]);
    let took = deleting.elapsed();
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_secs(10),
        "a container ignoring SIGTERM is killed after its 2 s grace period (took {took:?})"
    );
}

/// A failed init container of a pod that never restarts fails the pod.
fn init_failure_fails_the_pod(server: &Server) {
    wait_until(
        server,
        "pod init-fails Failed",
        Duration::from_secs(30),
        || pod(server, "init-fails")["status"]["phase"] == "Failed",
    );
    assert_eq!(shown_status(server, "init-fails"), "Init:Error");
    let pod_now = pod(server, "init-fails");
    let init = &pod_now["status"]["initContainerStatuses"][0]["state"]["terminated"];
    assert_eq!(init["exitCode"], 3, "{pod_now}");
    assert_eq!(init["reason"], "Error", "{pod_now}");
    assert!(
        container_status(&pod_now)["state"]["running"].is_null(),
        "the app container never ran: {pod_now}"
    );
}

/// A pod running past its activeDeadlineSeconds is Failed with upstream's reason, message and
/// event, and its container is stopped.
fn active_deadline_fails_the_pod(server: &Server) {
    wait_until(
        server,
        "pod past-deadline Failed",
        Duration::from_secs(30),
        || pod(server, "past-deadline")["status"]["phase"] == "Failed",
    );
    let failed = pod(server, "past-deadline");
    assert_eq!(failed["status"]["reason"], "DeadlineExceeded", "{failed}");
    assert_eq!(
        failed["status"]["message"],
        "Pod was active on the node longer than the specified deadline",
        "{failed}"
    );
    wait_until(
        server,
        "the DeadlineExceeded event of past-deadline",
        Duration::from_secs(10),
        || {
            has_event(
                server,
                "past-deadline",
                "DeadlineExceeded",
                "longer than the specified deadline",
            )
        },
    );
    wait_until(
        server,
        "the container of past-deadline terminated",
        Duration::from_secs(30),
        || !container_status(&pod(server, "past-deadline"))["state"]["terminated"].is_null(),
    );
    // As upstream's printer: the killed container's reason wins over the pod's.
    assert_eq!(shown_status(server, "past-deadline"), "Error");
}

/// A Job runs its real pods to completion; one that keeps failing exceeds its back-off limit.
fn jobs_run_to_completion(server: &Server) {
    server.ok(&[
        "wait",
        "--for=condition=complete",
        "job/completes",
        "--timeout=60s",
    ]);
    let pods = server.get_json(&["pods", "-l", "job-name=completes"]);
    let items = pods["items"].as_array().cloned().unwrap_or_default();
    let succeeded: Vec<&Value> = items
        .iter()
        .filter(|p| p["status"]["phase"] == "Succeeded")
        .collect();
    assert_eq!(succeeded.len(), 3, "three pods Succeeded: {pods}");
    for p in succeeded {
        assert_eq!(
            container_status(p)["state"]["terminated"]["exitCode"],
            0,
            "{p}"
        );
    }
    server.ok(&[
        "wait",
        "--for=condition=failed",
        "job/fails",
        "--timeout=60s",
    ]);
    let job = server.get_json(&["job", "fails"]);
    let failed = job["status"]["conditions"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .find(|c| c["type"] == "Failed")
        .unwrap_or_default();
    assert_eq!(failed["reason"], "BackoffLimitExceeded", "{job}");
}

/// Over its memory limit: OOMKilled (137), restarted, then CrashLoopBackOff.
fn oom_kill_and_crash_loop(server: &Server) {
    let mut last = Value::Null;
    wait_until(
        server,
        "pod oom in CrashLoopBackOff after OOM kills",
        Duration::from_secs(60),
        || {
            last = pod(server, "oom");
            let status = container_status(&last);
            restart_count(&last) >= 2
                && status["state"]["waiting"]["reason"] == "CrashLoopBackOff"
                && status["lastState"]["terminated"]["reason"] == "OOMKilled"
        },
    );
    let terminated = &container_status(&last)["lastState"]["terminated"];
    assert_eq!(terminated["exitCode"], 137, "{last}");
    assert_eq!(shown_status(server, "oom"), "CrashLoopBackOff");
    let crash = pod(server, "crash");
    assert_eq!(
        container_status(&crash)["lastState"]["terminated"]["reason"],
        "Error",
        "{crash}"
    );
}

/// A container that cannot be created is retried with a back-off, not in a tight loop.
fn create_errors_back_off(server: &Server, since_created: Duration) {
    let pod_now = pod(server, "create-error");
    let waiting = &container_status(&pod_now)["state"]["waiting"];
    assert_eq!(waiting["reason"], "CreateContainerError", "{pod_now}");
    assert!(
        waiting["message"]
            .as_str()
            .unwrap_or_default()
            .contains("/no/such/binary"),
        "{pod_now}"
    );
    assert_eq!(shown_status(server, "create-error"), "CreateContainerError");
    let tries: i64 = events(server, "create-error")
        .iter()
        .filter(|(reason, _, _)| reason == "Failed")
        .map(|(_, _, count)| count)
        .sum();
    let allowed = since_created.as_secs() as i64 / 10 + 2;
    assert!(
        tries >= 1 && tries <= allowed,
        "{tries} create attempts in {since_created:?}: at most one per 10 s"
    );
}

/// `kubectl logs --previous` shows the instance before the current one.
fn previous_logs(server: &Server) {
    wait_until(
        server,
        "pod crash restarted",
        Duration::from_secs(30),
        || restart_count(&pod(server, "crash")) >= 1,
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let before = restart_count(&pod(server, "crash"));
        let current = server.kubectl(&["logs", "crash"]);
        let previous = server.kubectl(&["logs", "crash", "--previous"]);
        let after = restart_count(&pod(server, "crash"));
        let current = String::from_utf8_lossy(&current.stdout).into_owned();
        let previous = String::from_utf8_lossy(&previous.stdout).into_owned();
        // The status may lag a restart by a sync: retry until both agree.
        if before == after
            && previous == format!("run {after}\n")
            && current == format!("run {}\n", after + 1)
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "restartCount {after}: previous logs {previous:?}, current logs {current:?}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Once every pod is gone, none of their cgroups is left in any hierarchy.
fn deletion_leaves_no_pod_cgroups(server: &Server) {
    let pods = server.get_json(&["pods"]);
    let uids: Vec<String> = pods["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|p| p["metadata"]["uid"].as_str().map(str::to_string))
        .collect();
    server.ok(&["delete", "jobs", "--all", "--wait=false"]);
    server.ok(&[
        "delete",
        "pods",
        "--all",
        "--grace-period=1",
        "--wait=false",
    ]);
    wait_until(server, "all pods gone", Duration::from_secs(60), || {
        server.ok(&["get", "pods", "-o", "name"]).trim().is_empty()
    });
    let mut left = Vec::new();
    for hierarchy in ["memory", "pids", "cpu,cpuacct", "unified"] {
        for qos in ["kubepods", "kubepods/burstable", "kubepods/besteffort"] {
            for uid in &uids {
                let path = format!("/sys/fs/cgroup/{hierarchy}/{qos}/pod{uid}");
                if std::path::Path::new(&path).exists() {
                    left.push(path);
                }
            }
        }
    }
    assert!(left.is_empty(), "pod cgroups left behind: {left:?}");
}
