//! Services across machines: a server and two agents (cluster.rs), a Deployment with a pod on each
//! agent behind a Service, reached from a client pod by name through cluster DNS and the nftables
//! service proxy over the VXLAN pod network; NodePort, LoadBalancer, readiness, scaling, and an
//! agent's removal leaving nothing behind on the other.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::cluster::{stdout_text, Cluster, AGENTS};
use crate::harness::{manifest, path_str};
use crate::node_support::can_run_containers;

const WEB: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 1
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector:
              matchLabels: {app: web}
            topologyKey: kubernetes.io/hostname
      containers:
      - name: httpd
        image: docker.io/library/busybox:1.35
        imagePullPolicy: Never
        command: ["sh", "-c", "mkdir -p /www && hostname > /www/index.html && touch /tmp/ready && exec httpd -f -p 8080 -h /www"]
        ports:
        - {name: http, containerPort: 8080}
        readinessProbe:
          exec: {command: ["cat", "/tmp/ready"]}
          periodSeconds: 1
          failureThreshold: 1
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: http}
---
apiVersion: v1
kind: Service
metadata:
  name: web-headless
spec:
  clusterIP: None
  selector: {app: web}
  ports:
  - {name: http, port: 8080}
---
apiVersion: v1
kind: Service
metadata:
  name: web-np
spec:
  type: NodePort
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: 8080}
---
apiVersion: v1
kind: Service
metadata:
  name: web-lb
spec:
  type: LoadBalancer
  selector: {app: web}
  ports:
  - {name: http, port: 8081, targetPort: 8080}
---
apiVersion: v1
kind: Service
metadata:
  name: clients
spec:
  clusterIP: None
  selector: {role: client}
  ports:
  - {port: 1234}
---
apiVersion: v1
kind: Pod
metadata:
  name: client
  labels: {role: client}
spec:
  hostname: client1
  subdomain: clients
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: docker.io/library/busybox:1.35
    imagePullPolicy: Never
    command: ["sleep", "3600"]
"#;

/// Asks the Service for 8 s, one line per answer: the uptime in centiseconds and who answered.
const ASK_IN_A_LOOP: &str = "read up rest < /proc/uptime; end=$(( ${up%.*}${up#*.} + 800 )); \
     now=0; while [ $now -lt $end ]; do \
     read up rest < /proc/uptime; now=${up%.*}${up#*.}; \
     echo \"$now $(wget -qO- http://web.default.svc.cluster.local 2>/dev/null)\"; done";

/// The kernel's uptime in centiseconds, as `/proc/uptime` gives it.
fn uptime_centiseconds() -> u64 {
    let text = std::fs::read_to_string("/proc/uptime").expect("read /proc/uptime");
    let seconds = text.split_whitespace().next().unwrap_or("0");
    seconds.replace('.', "").parse().expect("uptime")
}

/// Which pods answer `url` over `tries` requests from the client pod.
fn answering(cluster: &Cluster, url: &str, tries: usize) -> BTreeSet<String> {
    (0..tries)
        .filter_map(|_| cluster.fetch_from_pod("client", url))
        .collect()
}

fn nslookup(cluster: &Cluster, name: &str) -> String {
    let out = cluster
        .server
        .kubectl(&["exec", "client", "--", "nslookup", name]);
    format!(
        "{}{}",
        stdout_text(&out),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `(pod name, pod IP, node)` of the web pods.
fn web_pods(cluster: &Cluster) -> Vec<(String, String, String)> {
    let list = cluster.server.get_json(&["pods", "-l", "app=web"]);
    list["items"]
        .as_array()
        .expect("pod items")
        .iter()
        .filter(|pod| pod["metadata"]["deletionTimestamp"].is_null())
        .map(|pod| {
            (
                pod["metadata"]["name"].as_str().unwrap_or("").to_string(),
                pod["status"]["podIP"].as_str().unwrap_or("").to_string(),
                pod["spec"]["nodeName"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// Whether `text` holds `ip` as a whole address (not as the prefix of a longer one).
fn mentions_ip(text: &str, ip: &str) -> bool {
    text.match_indices(ip).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + ip.len()..].chars().next();
        let part_of_address = |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit() || c == '.');
        !part_of_address(before) && !part_of_address(after)
    })
}

/// Runs `program args` on an agent's machine (its network namespace).
fn on_agent(cluster: &Cluster, index: usize, program: &str, args: &[&str]) -> String {
    let out = cluster.agents[index]
        .netns
        .command(program)
        .args(args)
        .output()
        .expect("run a command on an agent's machine");
    stdout_text(&out)
}

#[test]
fn services_reach_pods_on_both_agents() {
    if !can_run_containers() {
        return;
    }
    let started = Instant::now();
    let cluster = Cluster::start("vxlan");
    eprintln!("cluster up {:?} after start", started.elapsed());
    let server = &cluster.server;
    let objects = manifest(server, "web.yaml", WEB);
    server.ok(&["apply", "-f", path_str(&objects)]);
    server.ok(&["rollout", "status", "deployment/web", "--timeout=90s"]);
    server.ok(&[
        "wait",
        "--for=condition=Ready",
        "pod/client",
        "--timeout=60s",
    ]);
    let pods = web_pods(&cluster);
    let nodes: BTreeSet<&str> = pods.iter().map(|(_, _, node)| node.as_str()).collect();
    assert_eq!(nodes.len(), 2, "one web pod per agent: {pods:?}");
    eprintln!("pods running {:?} after start", started.elapsed());

    // Pod to pod across the agents, over the VXLAN network, with the pods' own addresses.
    for (name, ip, _) in &pods {
        let url = format!("http://{ip}:8080/");
        cluster.wait_for(
            &format!("{name} reachable at {ip}"),
            Duration::from_secs(20),
            || cluster.fetch_from_pod("client", &url).as_deref() == Some(name.as_str()),
        );
    }

    // The Service by name: DNS, then the ClusterIP spread over both agents' pods.
    let all: BTreeSet<String> = pods.iter().map(|(name, _, _)| name.clone()).collect();
    let service_url = "http://web.default.svc.cluster.local";
    cluster.wait_for(
        "both pods answering through the Service",
        Duration::from_secs(30),
        || answering(&cluster, service_url, 12) == all,
    );
    eprintln!(
        "service answers from both agents {:?} after start",
        started.elapsed()
    );

    let cluster_ip = server.ok(&["get", "svc", "web", "-o", "jsonpath={.spec.clusterIP}"]);
    let answer = nslookup(&cluster, "web.default.svc.cluster.local");
    assert!(answer.contains(&cluster_ip), "{answer}");
    let answer = nslookup(&cluster, "web-headless.default.svc.cluster.local");
    for (_, ip, _) in &pods {
        assert!(
            answer.contains(ip.as_str()),
            "headless answers pod IPs: {answer}"
        );
    }
    let client_ip = server.ok(&["get", "pod", "client", "-o", "jsonpath={.status.podIP}"]);
    let answer = nslookup(&cluster, "client1.clients.default.svc.cluster.local");
    assert!(answer.contains(&client_ip), "pod hostname record: {answer}");
    let answer = nslookup(&cluster, "kubernetes.default.svc.cluster.local");
    assert!(answer.contains("10.43.0.1"), "{answer}");
    // busybox's nslookup asks for names as given; its wget resolves through the search path.
    assert!(all.contains(
        &cluster
            .fetch_from_pod("client", "http://web/")
            .unwrap_or_default()
    ));
    let answer = nslookup(&cluster, "missing.default.svc.cluster.local");
    assert!(answer.contains("NXDOMAIN"), "{answer}");

    // A pod that turns unready stops receiving traffic; back to ready, it gets traffic again.
    let (unready, _, _) = pods[0].clone();
    server.ok(&["exec", &unready, "--", "rm", "/tmp/ready"]);
    cluster.wait_for(
        "the unready pod out of rotation",
        Duration::from_secs(20),
        || {
            let answers = answering(&cluster, service_url, 8);
            !answers.is_empty() && !answers.contains(&unready)
        },
    );
    server.ok(&["exec", &unready, "--", "touch", "/tmp/ready"]);
    cluster.wait_for("the pod back in rotation", Duration::from_secs(20), || {
        answering(&cluster, service_url, 12) == all
    });

    // NodePort on every agent's address, from the server's machine.
    let node_port = server.ok(&[
        "get",
        "svc",
        "web-np",
        "-o",
        "jsonpath={.spec.ports[0].nodePort}",
    ]);
    for (_, node_ip) in AGENTS {
        let url = format!("http://{node_ip}:{node_port}/");
        cluster.wait_for(
            &format!("NodePort on {node_ip}"),
            Duration::from_secs(20),
            || {
                cluster
                    .curl(&[&url])
                    .is_some_and(|body| all.contains(&body))
            },
        );
    }

    // A LoadBalancer Service gets the nodes' addresses as ingress, and they answer.
    let lb_ips = || {
        server.ok(&[
            "get",
            "svc",
            "web-lb",
            "-o",
            "jsonpath={.status.loadBalancer.ingress[*].ip}",
        ])
    };
    cluster.wait_for(
        "a LoadBalancer ingress address",
        Duration::from_secs(20),
        || !lb_ips().is_empty(),
    );
    for lb_ip in lb_ips().split_whitespace() {
        let url = format!("http://{lb_ip}:8081/");
        cluster.wait_for(
            &format!("LoadBalancer on {lb_ip}"),
            Duration::from_secs(20),
            || {
                cluster
                    .curl(&[&url])
                    .is_some_and(|body| all.contains(&body))
            },
        );
    }

    // Back to a ClusterIP Service with a plain type patch (upstream drops the node ports and the
    // traffic policy with the type): the load-balancer ingress goes away.
    server.ok(&[
        "patch",
        "svc",
        "web-lb",
        "-p",
        r#"{"spec":{"type":"ClusterIP"}}"#,
    ]);
    cluster.wait_for(
        "the LoadBalancer ingress cleared",
        Duration::from_secs(20),
        || {
            server
                .ok(&[
                    "get",
                    "svc",
                    "web-lb",
                    "-o",
                    "jsonpath={.status.loadBalancer.ingress}",
                ])
                .is_empty()
        },
    );

    // Scaling down changes who answers. The client asks in a loop, stamping each answer with the
    // kernel's uptime (the same clock on the host and in the pod), while the test scales.
    let asking = server
        .command(crate::harness::KUBECTL)
        .env("KUBECONFIG", server.kubeconfig())
        .args(["exec", "client", "--", "sh", "-c", ASK_IN_A_LOOP])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start the asking loop");
    std::thread::sleep(Duration::from_secs(2));
    server.ok(&["scale", "deployment/web", "--replicas=1"]);
    let scaled_at = uptime_centiseconds();
    let answers = asking.wait_with_output().expect("the asking loop");
    let answers = String::from_utf8_lossy(&answers.stdout).into_owned();
    cluster.wait_for("one web pod left", Duration::from_secs(30), || {
        web_pods(&cluster).len() == 1
    });
    let remaining = web_pods(&cluster)[0].0.clone();
    let stamped: Vec<(u64, &str)> = answers
        .lines()
        .filter_map(|line| line.split_once(' '))
        .filter_map(|(stamp, who)| Some((stamp.parse().ok()?, who.trim())))
        .collect();
    let last_other = stamped
        .iter()
        .filter(|(_, who)| !who.is_empty() && *who != remaining)
        .map(|(stamp, _)| *stamp)
        .max()
        .unwrap_or(0);
    let failed = stamped.iter().filter(|(_, who)| who.is_empty()).count();
    assert!(
        stamped
            .iter()
            .any(|(stamp, who)| *stamp > last_other && *who == remaining),
        "only {remaining} answered at the end of the loop: {answers}"
    );
    eprintln!(
        "after the scale returned, the removed pod answered for {} ms more; then only {remaining} \
         ({} answers, {failed} failed requests)",
        last_other.saturating_sub(scaled_at) * 10,
        stamped.len()
    );

    // An agent goes away: its node is deleted, and nothing of it stays on the other agent.
    let (gone_name, _) = AGENTS[1];
    let gone_cidr = server.ok(&["get", "node", gone_name, "-o", "jsonpath={.spec.podCIDR}"]);
    let gone_pod_ips: Vec<String> = server.get_json(&["pods", "-o", "json"])["items"]
        .as_array()
        .expect("pods")
        .iter()
        .filter(|pod| pod["spec"]["nodeName"] == gone_name)
        .filter_map(|pod| pod["status"]["podIP"].as_str().map(str::to_string))
        .collect();
    let mut cluster = cluster;
    cluster.agents[1].kill_and_clean();
    cluster.server.ok(&["delete", "node", gone_name]);
    let cluster = cluster;
    // Routes go at once; the pods of a deleted node (and so their endpoints and rules) go when
    // pod GC collects them, after upstream's 40 s quarantine and its 20 s sweep.
    cluster.wait_for(
        "the removed agent's routes and rules gone from the other",
        Duration::from_secs(150),
        || {
            let routes = on_agent(&cluster, 0, "ip", &["route"]);
            let rules = on_agent(&cluster, 0, "nft", &["list", "ruleset"]);
            let neighbours = on_agent(&cluster, 0, "bridge", &["fdb", "show"]);
            !routes.contains(&gone_cidr)
                && !neighbours.contains(AGENTS[1].1)
                && gone_pod_ips.iter().all(|ip| !mentions_ip(&rules, ip))
        },
    );
    eprintln!("services checks done {:?} after start", started.elapsed());
}
