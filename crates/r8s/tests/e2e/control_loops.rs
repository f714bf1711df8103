//! The control loops end to end: `r8s server` (controllers + scheduler) with `r8s sim` nodes, driven
//! by kubectl.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;

use crate::etcd::Etcd;
use crate::harness::{manifest, path_str, Server};
use crate::sim_nodes::{wait_until, SimNodes};

fn pods(s: &Server, selector: &str) -> Vec<Value> {
    s.get_json(&["pods", "-l", selector])["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn running(pods: &[Value]) -> usize {
    pods.iter()
        .filter(|p| {
            p["status"]["phase"] == "Running" && p["metadata"]["deletionTimestamp"].is_null()
        })
        .count()
}

fn nodes_ready(s: &Server, count: usize) {
    wait_until(
        Duration::from_secs(30),
        "simulated nodes to be Ready",
        || {
            let out = s.ok(&["get", "nodes", "--no-headers"]);
            out.lines().filter(|l| l.contains(" Ready")).count() >= count
        },
    );
}

#[test]
fn deployment_rolls_out_scales_and_is_deleted() {
    let s = Server::start();
    let _sim = SimNodes::start(&s, &["--nodes", "20"]);
    nodes_ready(&s, 20);
    s.ok(&[
        "create",
        "deployment",
        "web",
        "--image=busybox",
        "--replicas=50",
    ]);
    wait_until(Duration::from_secs(60), "50 running pods", || {
        running(&pods(&s, "app=web")) == 50
    });
    let spread: BTreeSet<String> = pods(&s, "app=web")
        .iter()
        .filter_map(|p| p["spec"]["nodeName"].as_str().map(str::to_string))
        .collect();
    assert!(
        spread.len() >= 10,
        "pods spread over only {} nodes",
        spread.len()
    );
    s.ok(&["rollout", "status", "deployment/web", "--timeout=60s"]);

    s.ok(&["set", "image", "deployment/web", "busybox=busybox:1.36"]);
    s.ok(&["rollout", "status", "deployment/web", "--timeout=90s"]);
    let images: BTreeSet<String> = pods(&s, "app=web")
        .iter()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .filter_map(|p| {
            p["spec"]["containers"][0]["image"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    assert_eq!(images, BTreeSet::from(["busybox:1.36".to_string()]));
    let history = s.ok(&["rollout", "history", "deployment/web"]);
    assert!(history.contains('1') && history.contains('2'), "{history}");
    s.ok(&["rollout", "undo", "deployment/web"]);
    s.ok(&["rollout", "status", "deployment/web", "--timeout=90s"]);
    assert_eq!(
        s.ok(&[
            "get",
            "deploy",
            "web",
            "-o",
            "jsonpath={.spec.template.spec.containers[0].image}"
        ]),
        "busybox"
    );

    s.ok(&["scale", "deployment", "web", "--replicas=0"]);
    wait_until(Duration::from_secs(60), "no pods", || {
        pods(&s, "app=web").is_empty()
    });
    s.ok(&["scale", "deployment", "web", "--replicas=100"]);
    wait_until(Duration::from_secs(90), "100 running pods", || {
        running(&pods(&s, "app=web")) == 100
    });

    s.ok(&["delete", "deployment", "web"]);
    wait_until(
        Duration::from_secs(60),
        "replica sets and pods to go",
        || s.ok(&["get", "rs", "-o", "name"]).trim().is_empty() && pods(&s, "app=web").is_empty(),
    );
}

#[test]
fn scheduling_constraints_are_honoured() {
    let s = Server::start();
    let _sim = SimNodes::start(&s, &["--nodes", "3", "--node-labels", "disk=ssd"]);
    let _tainted = SimNodes::start(
        &s,
        &[
            "--nodes",
            "2",
            "--node-prefix",
            "gpu",
            "--node-taints",
            "gpu=true:NoSchedule",
        ],
    );
    nodes_ready(&s, 5);
    let pinned = r#"apiVersion: v1
kind: Pod
metadata:
  name: pinned
spec:
  nodeSelector:
    disk: ssd
  containers:
  - name: c
    image: busybox
"#;
    s.ok(&[
        "create",
        "-f",
        path_str(&manifest(&s, "pinned.yaml", pinned)),
    ]);
    wait_until(Duration::from_secs(30), "pinned pod running", || {
        s.ok(&["get", "pod", "pinned", "-o", "jsonpath={.status.phase}"]) == "Running"
    });
    let node = s.ok(&["get", "pod", "pinned", "-o", "jsonpath={.spec.nodeName}"]);
    assert!(node.starts_with("sim-node-"), "{node}");

    let impossible = r#"apiVersion: v1
kind: Pod
metadata:
  name: impossible
spec:
  nodeSelector:
    disk: nvme
  containers:
  - name: c
    image: busybox
"#;
    s.ok(&[
        "create",
        "-f",
        path_str(&manifest(&s, "impossible.yaml", impossible)),
    ]);
    wait_until(Duration::from_secs(30), "a FailedScheduling event", || {
        s.ok(&[
            "get",
            "events",
            "--field-selector",
            "involvedObject.name=impossible",
        ])
        .contains("FailedScheduling")
    });
    let events = s.ok(&[
        "get",
        "events",
        "--field-selector",
        "involvedObject.name=impossible",
        "-o",
        "jsonpath={.items[*].message}",
    ]);
    assert!(events.contains("0/5 nodes are available"), "{events}");
    assert!(events.contains("untolerated taint"), "{events}");
    assert!(
        events.contains("didn't match Pod's node affinity/selector"),
        "{events}"
    );

    let spread = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: spread
spec:
  replicas: 3
  selector:
    matchLabels: {app: spread}
  template:
    metadata:
      labels: {app: spread}
    spec:
      topologySpreadConstraints:
      - maxSkew: 1
        topologyKey: kubernetes.io/hostname
        whenUnsatisfiable: DoNotSchedule
        labelSelector:
          matchLabels: {app: spread}
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - topologyKey: kubernetes.io/hostname
            labelSelector:
              matchLabels: {app: spread}
      tolerations:
      - {key: gpu, operator: Exists, effect: NoSchedule}
      containers:
      - name: c
        image: busybox
"#;
    s.ok(&[
        "create",
        "-f",
        path_str(&manifest(&s, "spread.yaml", spread)),
    ]);
    wait_until(Duration::from_secs(60), "3 spread pods", || {
        running(&pods(&s, "app=spread")) == 3
    });
    let nodes: BTreeSet<String> = pods(&s, "app=spread")
        .iter()
        .filter_map(|p| p["spec"]["nodeName"].as_str().map(str::to_string))
        .collect();
    assert_eq!(
        nodes.len(),
        3,
        "anti-affinity puts each pod on its own node: {nodes:?}"
    );
}

#[test]
fn drain_evicts_and_recreates_elsewhere() {
    let s = Server::start();
    let _sim = SimNodes::start(&s, &["--nodes", "3"]);
    nodes_ready(&s, 3);
    s.ok(&[
        "create",
        "deployment",
        "web",
        "--image=busybox",
        "--replicas=6",
    ]);
    wait_until(Duration::from_secs(60), "6 running pods", || {
        running(&pods(&s, "app=web")) == 6
    });
    let budget = r#"apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
spec:
  minAvailable: 5
  selector:
    matchLabels: {app: web}
"#;
    s.ok(&["create", "-f", path_str(&manifest(&s, "pdb.yaml", budget))]);
    wait_until(
        Duration::from_secs(30),
        "the budget to allow one disruption",
        || {
            s.ok(&[
                "get",
                "pdb",
                "web",
                "-o",
                "jsonpath={.status.disruptionsAllowed}",
            ]) == "1"
        },
    );
    s.ok(&["cordon", "sim-node-0"]);
    // Evictions beyond the budget are refused (429) and retried by kubectl until replacements run.
    s.ok(&[
        "drain",
        "sim-node-0",
        "--ignore-daemonsets",
        "--timeout=90s",
    ]);
    wait_until(
        Duration::from_secs(60),
        "6 running pods off sim-node-0",
        || {
            let all = pods(&s, "app=web");
            running(&all) == 6
                && all
                    .iter()
                    .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
                    .all(|p| p["spec"]["nodeName"] != "sim-node-0")
        },
    );
}

#[test]
fn daemonset_statefulset_job_and_namespace_deletion() {
    let s = Server::start();
    let _sim = SimNodes::start(&s, &["--nodes", "3", "--pod-run-time", "1s"]);
    nodes_ready(&s, 3);
    let daemonset = r#"apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  selector:
    matchLabels: {app: agent}
  template:
    metadata:
      labels: {app: agent}
    spec:
      containers:
      - name: c
        image: busybox
"#;
    s.ok(&[
        "create",
        "-f",
        path_str(&manifest(&s, "ds.yaml", daemonset)),
    ]);
    wait_until(Duration::from_secs(60), "a daemon pod per node", || {
        running(&pods(&s, "app=agent")) == 3
    });
    let _more = SimNodes::start(&s, &["--nodes", "1", "--node-prefix", "late"]);
    wait_until(
        Duration::from_secs(60),
        "a daemon pod on the late node",
        || {
            pods(&s, "app=agent")
                .iter()
                .any(|p| p["spec"]["nodeName"] == "late-0" && p["status"]["phase"] == "Running")
        },
    );

    let statefulset = r#"apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  serviceName: web
  replicas: 3
  selector:
    matchLabels: {app: sts}
  template:
    metadata:
      labels: {app: sts}
    spec:
      containers:
      - name: c
        image: busybox
"#;
    s.ok(&[
        "create",
        "-f",
        path_str(&manifest(&s, "sts.yaml", statefulset)),
    ]);
    wait_until(Duration::from_secs(60), "web-0..2 running", || {
        running(&pods(&s, "app=sts")) == 3
    });
    let created: Vec<(String, String)> = {
        let mut v: Vec<(String, String)> = pods(&s, "app=sts")
            .iter()
            .map(|p| {
                (
                    p["metadata"]["creationTimestamp"]
                        .as_str()
                        .unwrap_or("")
                        .to_string(),
                    p["metadata"]["name"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let names: Vec<&str> = created.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(names, vec!["web-0", "web-1", "web-2"]);

    let job = r#"apiVersion: batch/v1
kind: Job
metadata:
  name: five
spec:
  completions: 5
  parallelism: 2
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: c
        image: busybox
"#;
    s.ok(&["create", "-f", path_str(&manifest(&s, "job.yaml", job))]);
    s.ok(&[
        "wait",
        "--for=condition=Complete",
        "job/five",
        "--timeout=90s",
    ]);
    assert_eq!(
        s.ok(&["get", "job", "five", "-o", "jsonpath={.status.succeeded}"]),
        "5"
    );

    s.ok(&["create", "namespace", "scratch"]);
    s.ok(&["create", "configmap", "a", "-n", "scratch"]);
    s.ok(&[
        "create",
        "deployment",
        "d",
        "--image=busybox",
        "-n",
        "scratch",
    ]);
    s.ok(&["delete", "namespace", "scratch", "--timeout=60s"]);
    let err = s.fails(&["get", "namespace", "scratch"]);
    assert!(err.contains("not found"), "{err}");
}

#[test]
fn lost_node_is_tainted_and_its_pods_move() {
    let s = Server::start_with(&["--node-monitor-grace-period", "5s"]);
    let _healthy = SimNodes::start(&s, &["--nodes", "2"]);
    let _failing = SimNodes::start(
        &s,
        &[
            "--nodes",
            "1",
            "--node-prefix",
            "doomed",
            "--fail-node",
            "doomed-0",
            "--fail-after",
            "8s",
            "--lease-renew-interval",
            "1s",
        ],
    );
    nodes_ready(&s, 3);
    let deployment = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      nodeSelector:
        kubernetes.io/hostname: doomed-0
      tolerations:
      - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 2}
      - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 2}
      containers:
      - name: c
        image: busybox
"#;
    s.ok(&[
        "create",
        "-f",
        path_str(&manifest(&s, "doomed.yaml", deployment)),
    ]);
    wait_until(Duration::from_secs(30), "the pod on doomed-0", || {
        running(&pods(&s, "app=web")) == 1
    });
    let first = pods(&s, "app=web")[0]["metadata"]["uid"].clone();
    wait_until(
        Duration::from_secs(60),
        "doomed-0 NotReady and tainted",
        || {
            let node = s.get_json(&["node", "doomed-0"]);
            let unknown = node["status"]["conditions"].as_array().is_some_and(|c| {
                c.iter()
                    .any(|c| c["type"] == "Ready" && c["status"] == "Unknown")
            });
            unknown
                && node["spec"]["taints"]
                    .to_string()
                    .contains("node.kubernetes.io/unreachable")
        },
    );
    assert!(s.ok(&["get", "nodes"]).contains("NotReady"));
    wait_until(Duration::from_secs(60), "the pod to be replaced", || {
        pods(&s, "app=web")
            .iter()
            .any(|p| p["metadata"]["uid"] != first)
    });
}

#[test]
fn leader_fails_over_between_two_servers_on_etcd() {
    let etcd = Etcd::start();
    let mut first = Server::start_with(&["--datastore-endpoint", &etcd.endpoint]);
    let second = Server::start_with(&["--datastore-endpoint", &etcd.endpoint]);
    let holder = |s: &Server, lease: &str| {
        s.ok(&[
            "get",
            "lease",
            lease,
            "-n",
            "kube-system",
            "-o",
            "jsonpath={.spec.holderIdentity}",
        ])
    };
    wait_until(Duration::from_secs(30), "a leader", || {
        !holder(&second, "kube-controller-manager").is_empty()
    });
    let leader = holder(&second, "kube-controller-manager");
    let first_pid = first.pid().to_string();
    let first_leads = leader.contains(&format!("_{first_pid}"));
    if first_leads {
        first.kill();
        wait_until(
            Duration::from_secs(15),
            "the second server to take over",
            || {
                let now = holder(&second, "kube-controller-manager");
                !now.is_empty() && now != leader
            },
        );
    } else {
        drop(second);
        wait_until(
            Duration::from_secs(15),
            "the first server to take over",
            || {
                let now = holder(&first, "kube-controller-manager");
                !now.is_empty() && now != leader
            },
        );
    }
}

#[test]
fn cronjob_runs_every_minute_and_keeps_its_history() {
    let s = Server::start();
    let _sim = SimNodes::start(&s, &["--nodes", "1", "--pod-run-time", "1s"]);
    nodes_ready(&s, 1);
    let cronjob = r#"apiVersion: batch/v1
kind: CronJob
metadata:
  name: tick
spec:
  schedule: "* * * * *"
  successfulJobsHistoryLimit: 1
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: c
            image: busybox
"#;
    s.ok(&[
        "create",
        "-f",
        path_str(&manifest(&s, "cron.yaml", cronjob)),
    ]);
    // Two scheduled runs (at most two minutes apart), each completing; only the newest is kept.
    let mut seen: BTreeSet<String> = BTreeSet::new();
    wait_until(Duration::from_secs(190), "two completed runs", || {
        let jobs = s.get_json(&["jobs"]);
        for job in jobs["items"].as_array().into_iter().flatten() {
            let complete = job["status"]["conditions"].as_array().is_some_and(|c| {
                c.iter()
                    .any(|c| c["type"] == "Complete" && c["status"] == "True")
            });
            if complete {
                seen.insert(job["metadata"]["name"].as_str().unwrap_or("").to_string());
            }
        }
        seen.len() >= 2
    });
    assert!(
        seen.iter().all(|name| name.starts_with("tick-")),
        "{seen:?}"
    );
    wait_until(Duration::from_secs(30), "the history limit", || {
        let jobs = s.ok(&["get", "jobs", "-o", "name"]);
        jobs.lines().count() == 1
    });
    let last = s.ok(&[
        "get",
        "cronjob",
        "tick",
        "-o",
        "jsonpath={.status.lastScheduleTime}",
    ]);
    assert!(!last.is_empty());
}
