//! A second machine joins: `r8s agent --server URL --token TOKEN` in a network namespace of its own,
//! on the server's node network, registers through the CSR API, runs a pod that the API server
//! reaches on its kubelet, keeps its certificate across restarts, and gets only a node's rights.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::agent_process::{logs_of, node_ready, wait_for, Agent};
use crate::harness::{manifest, path_str, Server};
use crate::netns::AGENT_IP;
use crate::node_support::can_run_containers;

const AGENT_NODE: &str = "r8s-e2e-agent";
const ISSUED_LOG_LINE: &str = "requested a node client certificate";

/// Names of the CSRs whose issued certificate is exactly `cert_pem`, and whether each is Approved.
fn csrs_that_issued(server: &Server, cert_pem: &[u8]) -> Vec<(String, bool)> {
    let encoded = Command::new("base64")
        .arg("-w0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().expect("stdin").write_all(cert_pem)?;
            child.wait_with_output()
        })
        .expect("run base64");
    let encoded = String::from_utf8_lossy(&encoded.stdout).into_owned();
    let list = server.get_json(&["csr"]);
    list["items"]
        .as_array()
        .expect("CSR items")
        .iter()
        .filter(|csr| csr["status"]["certificate"].as_str() == Some(encoded.as_str()))
        .map(|csr| {
            let approved = csr["status"]["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|c| c["type"] == "Approved" && c["status"] == "True");
            (
                csr["metadata"]["name"].as_str().unwrap_or("").to_string(),
                approved,
            )
        })
        .collect()
}

fn csr_names(server: &Server) -> Vec<String> {
    let mut names: Vec<String> = server.get_json(&["csr"])["items"]
        .as_array()
        .expect("CSR items")
        .iter()
        .filter_map(|csr| csr["metadata"]["name"].as_str().map(str::to_string))
        .collect();
    names.sort();
    names
}

fn container_id(server: &Server, pod: &str) -> String {
    server.ok(&[
        "get",
        "pod",
        pod,
        "-o",
        "jsonpath={.status.containerStatuses[0].containerID}",
    ])
}

const PINNED_POD: &str = r#"
apiVersion: v1
kind: Pod
metadata:
  name: on-agent
spec:
  nodeSelector:
    kubernetes.io/hostname: r8s-e2e-agent
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: docker.io/library/busybox:1.35
    imagePullPolicy: Never
    command: ["sh", "-c", "echo started-on-agent; exec sleep 3600"]
"#;

#[test]
fn second_machine_joins_with_token() {
    if !can_run_containers() {
        return;
    }
    let started = Instant::now();
    let server = Server::start_with_node(&["--bind-address", "0.0.0.0"]);
    let machine = server
        .netns()
        .expect("a node server has a namespace")
        .second_machine(AGENT_IP);
    let mut agent = Agent::new(&server, machine, AGENT_NODE, AGENT_IP, &[]);
    agent.start();

    // (1) Two Ready nodes; the agent's is a worker, joined through an approved CSR.
    wait_for(
        "both nodes Ready",
        Duration::from_secs(60),
        || logs_of(&server, &[&agent]),
        || node_ready(&server, "r8s-e2e") && node_ready(&server, AGENT_NODE),
    );
    eprintln!("two nodes Ready {:?} after start", started.elapsed());
    let node = server.get_json(&["node", AGENT_NODE]);
    let labels = node["metadata"]["labels"].as_object().expect("labels");
    assert!(
        !labels.contains_key("node-role.kubernetes.io/control-plane"),
        "{labels:?}"
    );
    assert_eq!(labels["kubernetes.io/hostname"], AGENT_NODE);
    // The server's own node is labelled control-plane by the server, not by its kubelet.
    wait_for(
        "the server's node labelled control-plane",
        Duration::from_secs(15),
        || logs_of(&server, &[&agent]),
        || {
            server.get_json(&["node", "r8s-e2e"])["metadata"]["labels"]
                ["node-role.kubernetes.io/control-plane"]
                == "true"
        },
    );
    node_restriction_limits_labels_and_taints(&server, &agent);
    let addresses = node["status"]["addresses"].to_string();
    assert!(addresses.contains(AGENT_IP), "{addresses}");
    assert_eq!(node["spec"]["podCIDR"], "10.42.1.0/24");
    let nodes = server.ok(&["get", "nodes"]);
    assert!(
        nodes
            .lines()
            .any(|l| l.starts_with(AGENT_NODE) && l.contains(" Ready ") && l.contains("<none>")),
        "{nodes}"
    );
    for file in [
        "kubelet-client.crt",
        "kubelet-client.key",
        "ca.crt",
        "kubelet.kubeconfig",
    ] {
        assert!(
            agent.credentials_dir().join(file).exists(),
            "{file} missing"
        );
    }
    let cert_pem = std::fs::read(agent.credentials_dir().join("kubelet-client.crt"))
        .expect("the agent's certificate");
    let subject = Command::new("openssl")
        .args(["x509", "-noout", "-subject", "-in"])
        .arg(agent.credentials_dir().join("kubelet-client.crt"))
        .output()
        .expect("run openssl");
    let subject = String::from_utf8_lossy(&subject.stdout);
    assert!(
        subject.contains("system:node:r8s-e2e-agent") && subject.contains("system:nodes"),
        "{subject}"
    );
    let issuing = csrs_that_issued(&server, &cert_pem);
    assert!(
        matches!(issuing.as_slice(), [(_, true)]),
        "one approved CSR issued the agent's certificate: {issuing:?}\n{}",
        server.ok(&["get", "csr"])
    );
    let csr_list = server.ok(&["get", "csr", &issuing[0].0]);
    assert!(csr_list.contains("Approved,Issued"), "{csr_list}");

    // (2) A pod pinned to the agent runs there; logs and exec go API server → 192.168.77.3:10250.
    let pod = manifest(&server, "on-agent.yaml", PINNED_POD);
    server.ok(&["apply", "-f", path_str(&pod)]);
    server.ok(&[
        "wait",
        "--for=condition=Ready",
        "pod/on-agent",
        "--timeout=60s",
    ]);
    let placed = server.get_json(&["pod", "on-agent"]);
    assert_eq!(placed["spec"]["nodeName"], AGENT_NODE);
    let pod_ip = placed["status"]["podIP"].as_str().unwrap_or("");
    assert!(pod_ip.starts_with("10.42.1."), "pod IP {pod_ip}");
    assert_eq!(placed["status"]["hostIP"], AGENT_IP);
    wait_for(
        "the pod's log through the API server",
        Duration::from_secs(15),
        || logs_of(&server, &[&agent]),
        || {
            String::from_utf8_lossy(&server.kubectl(&["logs", "on-agent"]).stdout)
                .contains("started-on-agent")
        },
    );
    let exec = server.kubectl(&["exec", "on-agent", "--", "sh", "-c", "hostname; exit 3"]);
    assert_eq!(exec.status.code(), Some(3), "{exec:?}");
    assert_eq!(String::from_utf8_lossy(&exec.stdout).trim(), "on-agent");
    let first_container = container_id(&server, "on-agent");
    assert!(first_container.starts_with("r8s://"), "{first_container}");

    // (5) The kubelet wants a client certificate from the cluster CA and asks the API server
    // what its user may do; the node identity is limited to its own node.
    let anonymous = server
        .command("curl")
        .args(["-sk", "-o", "/dev/null", "-w", "%{http_code}"])
        .arg(format!("https://{AGENT_IP}:10250/pods"))
        .output()
        .expect("run curl");
    assert_eq!(String::from_utf8_lossy(&anonymous.stdout), "401");
    // A node's own certificate authenticates, but the API server's SubjectAccessReview does not
    // give nodes `nodes/proxy`: not even its own kubelet serves it a pod's log.
    let credentials = agent.credentials_dir();
    let as_node = server
        .command("curl")
        .args(["-sk", "-w", "%{http_code}", "--cert"])
        .arg(credentials.join("kubelet-client.crt"))
        .arg("--key")
        .arg(credentials.join("kubelet-client.key"))
        .arg(format!(
            "https://{AGENT_IP}:10250/containerLogs/default/on-agent/main"
        ))
        .output()
        .expect("run curl");
    assert_eq!(
        String::from_utf8_lossy(&as_node.stdout),
        format!(
            "Forbidden (user=system:node:{AGENT_NODE}, verb=get, resource=nodes, subresource(s)=[proxy])\n403"
        )
    );
    // A service account's token is reviewed by the API server (TokenReview), then authorized
    // like any caller: refused, until RBAC grants it `nodes/proxy`.
    server.ok(&["create", "serviceaccount", "scraper"]);
    let token = server.ok(&["create", "token", "scraper"]);
    let as_scraper = |path: &str| {
        let output = server
            .command("curl")
            .args(["-sk", "-w", "\n%{http_code}", "-H"])
            .arg(format!("Authorization: Bearer {}", token.trim()))
            .arg(format!("https://{AGENT_IP}:10250{path}"))
            .output()
            .expect("run curl");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    assert_eq!(
        as_scraper("/stats/summary"),
        "Forbidden (user=system:serviceaccount:default:scraper, verb=get, resource=nodes, subresource(s)=[stats])\n\n403"
    );
    server.ok(&[
        "create",
        "clusterrole",
        "kubelet-proxy",
        "--verb=get",
        "--resource=nodes/proxy",
    ]);
    server.ok(&[
        "create",
        "clusterrolebinding",
        "scraper-kubelet-proxy",
        "--clusterrole=kubelet-proxy",
        "--serviceaccount=default:scraper",
    ]);
    wait_for(
        "the scraper's token reading the pod's log from the kubelet",
        Duration::from_secs(15),
        || logs_of(&server, &[&agent]),
        || as_scraper("/containerLogs/default/on-agent/main") == "started-on-agent\n\n200",
    );
    let own = agent.kubectl_as_node(&["get", "node", AGENT_NODE, "-o", "name"]);
    assert!(own.status.success(), "{own:?}");
    let other = agent.kubectl_as_node(&[
        "patch",
        "node",
        "r8s-e2e",
        "--type=merge",
        "-p",
        r#"{"metadata":{"labels":{"stolen":"yes"}}}"#,
    ]);
    let stderr = String::from_utf8_lossy(&other.stderr);
    assert!(
        !other.status.success() && stderr.contains("Forbidden"),
        "{other:?}"
    );
    assert!(
        !server
            .ok(&["get", "node", "r8s-e2e", "--show-labels"])
            .contains("stolen"),
        "the patch must not have landed"
    );

    // (4) A wrong secret is refused with a message that names the token and the 401.
    let (ca_part, _) = agent
        .token
        .rsplit_once(':')
        .expect("K10<hash>::server:<secret>");
    let wrong_token = format!("{ca_part}:not-the-secret");
    let intruder_dir = agent.dir.path().join("intruder");
    let mut intruder = agent
        .agent_command(&wrong_token, &intruder_dir, "r8s-e2e-intruder")
        .args(["--kubelet-port", "10251"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the intruder agent");
    let deadline = Instant::now() + Duration::from_secs(30);
    while intruder.try_wait().ok().flatten().is_none() {
        if Instant::now() > deadline {
            let _ = intruder.kill();
            let _ = intruder.wait();
            panic!("an agent with a wrong token kept running");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let refused = intruder.wait_with_output().expect("intruder output");
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{message}");
    assert!(
        message.contains("join token") && message.contains("401"),
        "{message}"
    );
    assert!(
        !server.ok(&["get", "nodes"]).contains("intruder"),
        "no node for a refused agent"
    );

    // (3) SIGTERM and start again: the stored certificate is reused and the pod keeps running.
    let csrs_before = csr_names(&server);
    agent.stop_with_sigterm();
    agent.start();
    wait_for(
        "the restarted agent's kubelet serving logs",
        Duration::from_secs(30),
        || logs_of(&server, &[&agent]),
        || {
            agent.log().contains("node agent started")
                && String::from_utf8_lossy(&server.kubectl(&["logs", "on-agent"]).stdout)
                    .contains("started-on-agent")
        },
    );
    assert!(!agent.log().contains(ISSUED_LOG_LINE), "{}", agent.log());
    assert_eq!(
        csr_names(&server),
        csrs_before,
        "no new CSR after a restart"
    );
    assert_eq!(
        std::fs::read(agent.credentials_dir().join("kubelet-client.crt")).expect("cert"),
        cert_pem
    );
    assert!(node_ready(&server, AGENT_NODE));
    let after = server.get_json(&["pod", "on-agent"]);
    assert_eq!(after["status"]["phase"], "Running");
    let container_now = container_id(&server, "on-agent");
    if container_now != first_container {
        // Seen once in CI under load and not reproduced alone: say everything that tells why.
        let log = agent.log();
        let tail: Vec<&str> = log.lines().rev().take(80).collect();
        panic!(
            "the container was replaced across the agent restart ({first_container} -> \
             {container_now})\npod status: {}\nevents:\n{}\nagent log, last lines:\n{}",
            after["status"],
            server.ok(&[
                "get",
                "events",
                "--field-selector",
                "involvedObject.name=on-agent"
            ]),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }
    assert_eq!(after["status"]["containerStatuses"][0]["restartCount"], 0);
    let exec = server.kubectl(&["exec", "on-agent", "--", "echo", "still-here"]);
    assert_eq!(
        String::from_utf8_lossy(&exec.stdout).trim(),
        "still-here",
        "{exec:?}"
    );
    eprintln!("node join checks done {:?} after start", started.elapsed());
}

/// NodeRestriction: with its own credentials a node may label itself only as a kubelet may, and
/// may not touch its taints (upstream's messages).
fn node_restriction_limits_labels_and_taints(server: &Server, agent: &Agent) {
    let kubeconfig = agent.credentials_dir().join("kubelet.kubeconfig");
    let as_node = |args: &[&str]| {
        server
            .command("kubectl")
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .args(args)
            .output()
            .expect("run kubectl as the node")
    };
    let allowed = as_node(&["label", "node", AGENT_NODE, "team=blue"]);
    assert!(allowed.status.success(), "{allowed:?}");
    let role = as_node(&[
        "label",
        "node",
        AGENT_NODE,
        "node-role.kubernetes.io/worker=",
    ]);
    assert!(!role.status.success(), "{role:?}");
    let stderr = String::from_utf8_lossy(&role.stderr);
    assert!(
        stderr.contains(&format!(
            "nodes \"{AGENT_NODE}\" is forbidden: is not allowed to modify labels: node-role.kubernetes.io/worker"
        )),
        "{stderr}"
    );
    let taint = as_node(&["taint", "node", AGENT_NODE, "dedicated=x:NoSchedule"]);
    let stderr = String::from_utf8_lossy(&taint.stderr);
    assert!(
        stderr.contains(&format!(
            "node \"{AGENT_NODE}\" is not allowed to modify taints"
        )),
        "{taint:?}"
    );
    let node = server.get_json(&["node", AGENT_NODE]);
    assert_eq!(node["metadata"]["labels"]["team"], "blue");
    // The node lifecycle controller's own taints (not-ready while a node settles) may come and
    // go; the node's taint never arrived.
    assert!(
        !node["spec"]["taints"].to_string().contains("dedicated"),
        "{node}"
    );
    server.ok(&["label", "node", AGENT_NODE, "team-"]);
}
