//! The rendered table in a real kernel: inside network namespaces this test creates (a "node"
//! with a bridge and two "pod" namespaces on it), `nft -f` must accept the script, and HTTP from
//! one pod to the other must pass, stop under a default-deny policy, and pass again once a policy
//! admits the client's label. Skipped when not root or without `nft`, `busybox` (httpd) or `curl`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Namespace, Pod};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use netpol::{ClusterState, TableSync};
use nftables::{Nft, NftError};
use serde_json::{json, Value};

const NODE: &str = "node-a";
const GATEWAY: &str = "10.42.0.1";
const CLIENT_IP: &str = "10.42.0.2";
const SERVER_IP: &str = "10.42.0.3";
const STRANGER_IP: &str = "10.42.0.4";

/// Network namespaces created by this test, deleted (with the server in them) on drop.
struct TestNamespaces {
    node: String,
    pods: Vec<String>,
    server: Option<Child>,
    www: Option<PathBuf>,
}

impl Drop for TestNamespaces {
    fn drop(&mut self) {
        if let Some(mut server) = self.server.take() {
            let _ = server.kill();
            let _ = server.wait();
        }
        for name in self.pods.iter().chain([&self.node]) {
            let _ = Command::new("ip").args(["netns", "del", name]).status();
        }
        if let Some(www) = &self.www {
            let _ = std::fs::remove_dir_all(www);
        }
    }
}

fn run(program: &str, args: &[&str]) {
    let status = Command::new(program).args(args).status().unwrap();
    assert!(status.success(), "{program} {args:?}: {status}");
}

fn inside(netns: &str, args: &[&str]) -> Command {
    let mut command = Command::new("nsenter");
    command
        .arg(format!("--net=/run/netns/{netns}"))
        .arg("--")
        .args(args);
    command
}

/// `nft -f -` run inside the node namespace.
struct NftInNamespace(String);

impl Nft for NftInNamespace {
    fn apply(&self, script: &str) -> Result<(), NftError> {
        use std::io::Write;
        let mut child = inside(&self.0, &["nft", "-f", "-"])
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| NftError::Spawn {
                program: "nft".into(),
                source,
            })?;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        if output.status.success() {
            Ok(())
        } else {
            Err(NftError::Rejected {
                status: output.status.to_string(),
                stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            })
        }
    }
}

fn pod(name: &str, labels: Value, ip: &str) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"namespace": "default", "name": name, "labels": labels},
        "spec": {"nodeName": NODE, "containers": [{"name": "c", "image": "busybox"}]},
        "status": {"phase": "Running", "podIP": ip},
    }))
    .unwrap()
}

fn policy(name: &str, spec: Value) -> NetworkPolicy {
    serde_json::from_value(
        json!({"metadata": {"namespace": "default", "name": name}, "spec": spec}),
    )
    .unwrap()
}

fn setup() -> TestNamespaces {
    let node = format!("r8s-netpol-{:08x}", rand::random::<u32>());
    let mut namespaces = TestNamespaces {
        node: node.clone(),
        pods: Vec::new(),
        server: None,
        www: None,
    };
    run("ip", &["netns", "add", &node]);
    run("ip", &["-n", &node, "link", "set", "lo", "up"]);
    run("ip", &["-n", &node, "link", "add", "br0", "type", "bridge"]);
    run(
        "ip",
        &[
            "-n",
            &node,
            "addr",
            "add",
            &format!("{GATEWAY}/24"),
            "dev",
            "br0",
        ],
    );
    run("ip", &["-n", &node, "link", "set", "br0", "up"]);
    let bridge_nf = inside(
        &node,
        &[
            "sh",
            "-c",
            "echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables",
        ],
    )
    .status()
    .unwrap();
    assert!(bridge_nf.success(), "br_netfilter must be available");
    for (short, ip) in [("c", CLIENT_IP), ("s", SERVER_IP), ("x", STRANGER_IP)] {
        let pod_ns = format!("{node}-{short}");
        run("ip", &["netns", "add", &pod_ns]);
        namespaces.pods.push(pod_ns.clone());
        let host_side = format!("veth-{short}");
        run(
            "ip",
            &[
                "-n", &node, "link", "add", &host_side, "type", "veth", "peer", "name", "eth0",
                "netns", &pod_ns,
            ],
        );
        run(
            "ip",
            &[
                "-n", &node, "link", "set", &host_side, "master", "br0", "up",
            ],
        );
        run("ip", &["-n", &pod_ns, "link", "set", "lo", "up"]);
        run(
            "ip",
            &[
                "-n",
                &pod_ns,
                "addr",
                "add",
                &format!("{ip}/24"),
                "dev",
                "eth0",
            ],
        );
        run("ip", &["-n", &pod_ns, "link", "set", "eth0", "up"]);
    }
    let www = std::env::temp_dir().join(format!("{node}-www"));
    namespaces.www = Some(www.clone());
    std::fs::create_dir_all(&www).unwrap();
    std::fs::write(www.join("index.html"), "hello\n").unwrap();
    let server = inside(
        &namespaces.pods[1],
        &[
            "busybox",
            "httpd",
            "-f",
            "-p",
            "8080",
            "-h",
            www.to_str().unwrap(),
        ],
    )
    .spawn()
    .unwrap();
    namespaces.server = Some(server);
    namespaces
}

/// Whether `from` (a namespace) gets the page from the server within two seconds.
fn fetches(from: &str) -> bool {
    let output = inside(
        from,
        &[
            "curl",
            "-s",
            "-m",
            "2",
            &format!("http://{SERVER_IP}:8080/"),
        ],
    )
    .output()
    .unwrap();
    output.status.success() && String::from_utf8_lossy(&output.stdout) == "hello\n"
}

fn wait_for_server(namespaces: &TestNamespaces) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if fetches(&namespaces.pods[0]) {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("the server never answered");
}

fn can_run() -> bool {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout == b"0\n");
    let found = |program: &str| {
        Command::new("sh")
            .args(["-c", &format!("command -v {program}")])
            .output()
            .is_ok_and(|out| out.status.success())
    };
    root && ["nft", "nsenter", "busybox", "curl", "ip"]
        .into_iter()
        .all(found)
}

#[test]
fn policies_block_and_admit_real_traffic_between_pods_on_a_bridge() {
    if !can_run() {
        println!("skipped: needs root, nft, nsenter and busybox");
        return;
    }
    let namespaces = setup();
    let nft = NftInNamespace(namespaces.node.clone());
    let (client_ns, stranger_ns) = (&namespaces.pods[0], &namespaces.pods[2]);
    let pods = [
        pod(
            "client",
            json!({"app": "client", "access": "true"}),
            CLIENT_IP,
        ),
        pod("server", json!({"app": "web"}), SERVER_IP),
        pod("stranger", json!({"app": "other"}), STRANGER_IP),
    ];
    let cluster_namespaces: [Namespace; 1] =
        [serde_json::from_value(json!({"metadata": {"name": "default"}})).unwrap()];
    let deny = policy(
        "deny",
        json!({"podSelector": {}, "policyTypes": ["Ingress"]}),
    );
    let allow = policy(
        "allow-access",
        json!({
            "podSelector": {"matchLabels": {"app": "web"}},
            "ingress": [{"from": [{"podSelector": {"matchLabels": {"access": "true"}}}], "ports": [{"port": 8080}]}],
        }),
    );
    let mut table = TableSync::default();
    let mut apply = |policies: &[NetworkPolicy]| {
        let state = ClusterState::from_objects(&pods, &cluster_namespaces, policies);
        table.sync(&state, NODE, &nft).unwrap();
    };

    apply(&[]);
    wait_for_server(&namespaces);
    assert!(fetches(stranger_ns));

    apply(std::slice::from_ref(&deny));
    assert!(!fetches(client_ns), "default deny blocks the client");
    assert!(!fetches(stranger_ns), "default deny blocks everyone");
    let from_node = inside(
        &namespaces.node,
        &[
            "curl",
            "-s",
            "-m",
            "2",
            &format!("http://{SERVER_IP}:8080/"),
        ],
    )
    .output()
    .unwrap();
    assert!(
        from_node.status.success(),
        "the node itself still reaches its pods"
    );

    apply(&[deny.clone(), allow.clone()]);
    assert!(fetches(client_ns), "the labelled client is admitted");
    assert!(!fetches(stranger_ns), "others still are not");

    apply(&[]);
    assert!(
        fetches(stranger_ns),
        "without policies everyone is admitted again"
    );
}
