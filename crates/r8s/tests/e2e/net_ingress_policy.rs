//! The built-in ingress controller and NetworkPolicy, on a server and two agents (cluster.rs)
//! whose pod network is host-gw routes: an Ingress routes `a.example` and `b.example/path` to two
//! Services, over HTTP and TLS (curl --resolve from the server's machine); a default-deny policy
//! blocks traffic that a second policy lets in again.

use std::time::{Duration, Instant};

use crate::cluster::{stdout_text, Cluster, AGENTS};
use crate::harness::{manifest, path_str};
use crate::node_support::can_run_containers;

/// A Deployment and a Service named `name` whose pods answer `name` at `/` and at `/path/`.
fn site(name: &str) -> String {
    format!(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: 1
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: httpd
        image: docker.io/library/busybox:1.35
        imagePullPolicy: Never
        command: ["sh", "-c", "mkdir -p /www/path && echo {name} > /www/index.html && echo {name}-path > /www/path/index.html && exec httpd -f -p 8080 -h /www"]
        ports:
        - {{name: http, containerPort: 8080}}
---
apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  selector: {{app: {name}}}
  ports:
  - {{name: http, port: 80, targetPort: http}}
"#
    )
}

const INGRESS: &str = r#"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: sites
spec:
  tls:
  - hosts: [a.example]
    secretName: a-tls
  rules:
  - host: a.example
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service: {name: site-a, port: {number: 80}}
  - host: b.example
    http:
      paths:
      - path: /path
        pathType: Prefix
        backend:
          service: {name: site-b, port: {name: http}}
"#;

const CLIENT: &str = r#"
apiVersion: v1
kind: Pod
metadata:
  name: client
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: docker.io/library/busybox:1.35
    imagePullPolicy: Never
    command: ["sleep", "3600"]
"#;

const DENY_ALL_INGRESS: &str = r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny
spec:
  podSelector: {}
  policyTypes: [Ingress]
"#;

const ALLOW_LABELLED: &str = r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-access
spec:
  podSelector:
    matchLabels: {app: site-a}
  ingress:
  - from:
    - podSelector:
        matchLabels: {access: "true"}
    ports:
    - {port: http}
"#;

/// A self-signed certificate for `host` as a `kubernetes.io/tls` Secret named `name`.
fn create_tls_secret(cluster: &Cluster, name: &str, host: &str) {
    let dir = cluster.server.dir.path();
    let (key, cert) = (
        dir.join(format!("{name}.key")),
        dir.join(format!("{name}.crt")),
    );
    let made = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", &format!("/CN={host}")])
        .args(["-addext", &format!("subjectAltName=DNS:{host}")])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("run openssl");
    assert!(made.status.success(), "{made:?}");
    cluster.server.ok(&[
        "create",
        "secret",
        "tls",
        name,
        "--cert",
        path_str(&cert),
        "--key",
        path_str(&key),
    ]);
}

#[test]
fn ingress_routes_hosts_and_policies_gate_traffic() {
    if !can_run_containers() {
        return;
    }
    let started = Instant::now();
    let cluster = Cluster::start("host-gw");
    eprintln!("cluster up {:?} after start", started.elapsed());
    let server = &cluster.server;
    for name in ["site-a", "site-b"] {
        let objects = manifest(server, &format!("{name}.yaml"), &site(name));
        server.ok(&["apply", "-f", path_str(&objects)]);
    }
    create_tls_secret(&cluster, "a-tls", "a.example");
    let ingress = manifest(server, "ingress.yaml", INGRESS);
    server.ok(&["apply", "-f", path_str(&ingress)]);
    let client = manifest(server, "client.yaml", CLIENT);
    server.ok(&["apply", "-f", path_str(&client)]);
    for deployment in ["deployment/site-a", "deployment/site-b"] {
        server.ok(&["rollout", "status", deployment, "--timeout=90s"]);
    }
    server.ok(&[
        "wait",
        "--for=condition=Ready",
        "pod/client",
        "--timeout=60s",
    ]);

    // The default IngressClass is r8s's, and the Ingress reports the nodes' addresses.
    let classes = server.ok(&["get", "ingressclass"]);
    assert!(classes.contains("r8s"), "{classes}");
    cluster.wait_for(
        "the Ingress's load-balancer status",
        Duration::from_secs(30),
        || {
            let ips = server.ok(&[
                "get",
                "ingress",
                "sites",
                "-o",
                "jsonpath={.status.loadBalancer.ingress[*].ip}",
            ]);
            AGENTS.iter().all(|(_, ip)| ips.contains(ip))
        },
    );

    // Routing by host and path on every agent, over HTTP and TLS (SNI picks the Secret's cert).
    for (_, node_ip) in AGENTS {
        let a = format!("a.example:80:{node_ip}");
        cluster.wait_for(
            &format!("a.example on {node_ip}"),
            Duration::from_secs(30),
            || {
                cluster
                    .curl(&["--resolve", &a, "http://a.example/"])
                    .as_deref()
                    == Some("site-a")
            },
        );
        let b = format!("b.example:80:{node_ip}");
        assert_eq!(
            cluster
                .curl(&["--resolve", &b, "http://b.example/path/"])
                .as_deref(),
            Some("site-b-path")
        );
        let not_routed = cluster.curl(&[
            "--resolve",
            &b,
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "http://b.example/other",
        ]);
        assert_eq!(not_routed.as_deref(), Some("404"));
        let tls = format!("a.example:443:{node_ip}");
        let answer = cluster
            .server
            .command("curl")
            .args([
                "-sv",
                "-k",
                "--max-time",
                "3",
                "--resolve",
                &tls,
                "https://a.example/",
            ])
            .output()
            .expect("run curl");
        let log = String::from_utf8_lossy(&answer.stderr);
        assert_eq!(stdout_text(&answer), "site-a", "{log}");
        assert!(
            log.contains("CN=a.example"),
            "the Secret's certificate: {log}"
        );
        let http2 = cluster.curl(&[
            "-k",
            "--http2",
            "-o",
            "/dev/null",
            "-w",
            "%{http_version}",
            "--resolve",
            &tls,
            "https://a.example/",
        ]);
        assert_eq!(http2.as_deref(), Some("2"));
    }
    eprintln!("ingress checks done {:?} after start", started.elapsed());

    // NetworkPolicy: allowed by default, denied by a default-deny policy, let in again by a
    // policy for labelled clients.
    let url = "http://site-a.default.svc.cluster.local/";
    cluster.wait_for(
        "the client reaching site-a",
        Duration::from_secs(30),
        || cluster.fetch_from_pod("client", url).as_deref() == Some("site-a"),
    );
    let deny = manifest(server, "deny.yaml", DENY_ALL_INGRESS);
    server.ok(&["apply", "-f", path_str(&deny)]);
    cluster.wait_for(
        "default-deny blocking the client",
        Duration::from_secs(20),
        || cluster.fetch_from_pod("client", url).is_none(),
    );
    let allow = manifest(server, "allow.yaml", ALLOW_LABELLED);
    server.ok(&["apply", "-f", path_str(&allow)]);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        cluster.fetch_from_pod("client", url),
        None,
        "an unlabelled client stays blocked"
    );
    server.ok(&["label", "pod", "client", "access=true"]);
    cluster.wait_for(
        "the labelled client let in again",
        Duration::from_secs(20),
        || cluster.fetch_from_pod("client", url).as_deref() == Some("site-a"),
    );
    assert_eq!(
        cluster.fetch_from_pod("client", "http://site-b.default.svc.cluster.local/"),
        None,
        "site-b admits no one: the allow policy selects site-a only"
    );
    eprintln!(
        "network policy checks done {:?} after start",
        started.elapsed()
    );
}
