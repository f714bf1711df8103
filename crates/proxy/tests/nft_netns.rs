//! The proxy's rules in a real kernel: as root, inside network namespaces this test creates,
//! `nft -f` takes the full ruleset and an incremental update, and a ClusterIP, a NodePort and a
//! hairpin connection reach a busybox httpd backend in a second namespace. Skipped (with the
//! reason printed) when not root or when `nft`, `ip`, `nsenter`, `busybox` or `curl` is missing.

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use nftables::{Nft, NftError};
use proxy::{full_ruleset, render_service, route_arguments, Proxier, RenderOptions, ServiceKey};
use serde_json::json;

/// `nft -f -` inside one network namespace.
struct NetnsNft {
    netns: String,
}

impl Nft for NetnsNft {
    fn apply(&self, script: &str) -> Result<(), NftError> {
        use std::io::Write;
        let mut child = Command::new("nsenter")
            .args([
                &format!("--net=/run/netns/{}", self.netns),
                "--",
                "nft",
                "-f",
                "-",
            ])
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| NftError::Spawn {
                program: "nsenter nft".into(),
                source,
            })?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(script.as_bytes())
                .map_err(|source| NftError::Spawn {
                    program: "nsenter nft".into(),
                    source,
                })?;
        }
        let output = child.wait_with_output().map_err(|source| NftError::Spawn {
            program: "nsenter nft".into(),
            source,
        })?;
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

/// Network namespaces and processes this test made, removed on drop.
struct Sandbox {
    namespaces: Vec<String>,
    children: Vec<Child>,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        for name in &self.namespaces {
            let _ = Command::new("ip").args(["netns", "del", name]).status();
        }
    }
}

fn in_netns(netns: &str, command: &[&str]) -> std::process::Output {
    Command::new("nsenter")
        .arg(format!("--net=/run/netns/{netns}"))
        .arg("--")
        .args(command)
        .output()
        .expect("nsenter runs")
}

fn run_ok(netns: &str, command: &[&str]) -> String {
    let output = in_netns(netns, command);
    assert!(
        output.status.success(),
        "{command:?} in {netns}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn skip_reason() -> Option<String> {
    let uid = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Some("not root".into());
    }
    for tool in ["nft", "ip", "nsenter", "busybox", "curl"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if !found {
            return Some(format!("{tool} is missing"));
        }
    }
    None
}

fn options() -> RenderOptions {
    RenderOptions {
        node_name: "node-a".into(),
        cluster_cidr: "10.42.0.0/16".into(),
        service_cidr: "10.43.0.0/16".into(),
    }
}

fn service(name: &str, ip: &str, spec: serde_json::Value) -> Service {
    let mut object = json!({
        "metadata": {"namespace": "default", "name": name},
        "spec": {"clusterIP": ip, "ports": [{"port": 80, "targetPort": 8080}]}
    });
    if let Some(extra) = spec.as_object() {
        for (k, v) in extra {
            object["spec"][k] = v.clone();
        }
    }
    serde_json::from_value(object).unwrap()
}

fn slice(service: &str, ips: &[&str]) -> EndpointSlice {
    let endpoints: Vec<_> = ips
        .iter()
        .map(|ip| json!({"addresses": [ip], "nodeName": "node-a", "conditions": {"ready": true}}))
        .collect();
    serde_json::from_value(json!({
        "metadata": {"namespace": "default", "name": format!("{service}-1"),
                     "labels": {"kubernetes.io/service-name": service}},
        "addressType": "IPv4",
        "ports": [{"port": 8080, "protocol": "TCP"}],
        "endpoints": endpoints
    }))
    .unwrap()
}

fn fetch(netns: &str, url: &str) -> Result<String, String> {
    let output = in_netns(netns, &["curl", "-sS", "-m", "3", url]);
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        // curl exits 7 when the connection is refused (here: an ICMP reject), 28 on a timeout.
        let refused = if output.status.code() == Some(7) {
            "refused: "
        } else {
            ""
        };
        Err(format!(
            "{refused}{}",
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

#[test]
fn rules_apply_and_carry_traffic_in_a_network_namespace() {
    if let Some(reason) = skip_reason() {
        eprintln!("skipping: {reason}");
        return;
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let id = format!("{}-{}", std::process::id(), nanos % 10000);
    let node = format!("r8s-proxy-n{id}");
    let pod = format!("r8s-proxy-p{id}");
    let mut sandbox = Sandbox {
        namespaces: vec![],
        children: vec![],
    };
    for name in [&node, &pod] {
        assert!(Command::new("ip")
            .args(["netns", "add", name])
            .status()
            .unwrap()
            .success());
        sandbox.namespaces.push(name.clone());
        run_ok(name, &["ip", "link", "set", "lo", "up"]);
    }
    // The "pod": 10.42.0.6 behind a veth whose node end is 10.42.0.1, running httpd on :8080.
    run_ok(
        &node,
        &[
            "ip", "link", "add", "vpod", "type", "veth", "peer", "name", "eth0", "netns", &pod,
        ],
    );
    run_ok(&node, &["ip", "addr", "add", "10.42.0.1/24", "dev", "vpod"]);
    run_ok(&node, &["ip", "link", "set", "vpod", "up"]);
    run_ok(&node, &["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
    run_ok(&pod, &["ip", "addr", "add", "10.42.0.6/24", "dev", "eth0"]);
    run_ok(&pod, &["ip", "link", "set", "eth0", "up"]);
    run_ok(&pod, &["ip", "route", "add", "default", "via", "10.42.0.1"]);
    let www_dir = tempfile::tempdir().unwrap();
    let www = www_dir.path().display().to_string();
    std::fs::write(format!("{www}/index.html"), "hello from the pod\n").unwrap();
    let httpd = Command::new("nsenter")
        .args([
            &format!("--net=/run/netns/{pod}"),
            "--",
            "busybox",
            "httpd",
            "-f",
            "-p",
            "8080",
            "-h",
            &www,
        ])
        .spawn()
        .unwrap();
    sandbox.children.push(httpd);

    // "Another node": 192.168.99.2 behind a second veth, holding pod 10.42.1.9 (on its lo)
    // with httpd on :8080; the node routes 10.42.1.0/24 to it, as the pod network would.
    let remote = format!("r8s-proxy-r{id}");
    assert!(Command::new("ip")
        .args(["netns", "add", &remote])
        .status()
        .unwrap()
        .success());
    sandbox.namespaces.push(remote.clone());
    run_ok(&remote, &["ip", "link", "set", "lo", "up"]);
    run_ok(
        &node,
        &[
            "ip", "link", "add", "vnode", "type", "veth", "peer", "name", "eth0", "netns", &remote,
        ],
    );
    run_ok(
        &node,
        &["ip", "addr", "add", "192.168.99.1/24", "dev", "vnode"],
    );
    run_ok(&node, &["ip", "link", "set", "vnode", "up"]);
    run_ok(
        &node,
        &["ip", "route", "add", "10.42.1.0/24", "via", "192.168.99.2"],
    );
    run_ok(
        &remote,
        &["ip", "addr", "add", "192.168.99.2/24", "dev", "eth0"],
    );
    run_ok(&remote, &["ip", "addr", "add", "10.42.1.9/32", "dev", "lo"]);
    run_ok(&remote, &["ip", "link", "set", "eth0", "up"]);
    run_ok(
        &remote,
        &["ip", "route", "add", "default", "via", "192.168.99.1"],
    );
    let remote_www_dir = tempfile::tempdir().unwrap();
    let remote_www = remote_www_dir.path().display().to_string();
    std::fs::write(
        format!("{remote_www}/index.html"),
        "hello from the remote pod\n",
    )
    .unwrap();
    let remote_httpd = Command::new("nsenter")
        .args([
            &format!("--net=/run/netns/{remote}"),
            "--",
            "busybox",
            "httpd",
            "-f",
            "-p",
            "10.42.1.9:8080",
            "-h",
            &remote_www,
        ])
        .spawn()
        .unwrap();
    sandbox.children.push(remote_httpd);

    // The service CIDR route, as the proxy installs it.
    let mut route = vec!["ip"];
    let arguments = route_arguments("10.43.0.0/16");
    route.extend(arguments.iter().map(String::as_str));
    run_ok(&node, &route);

    let nft = Arc::new(NetnsNft {
        netns: node.clone(),
    });
    let mut proxier = Proxier::new(nft.clone(), options());
    let web = service(
        "web",
        "10.43.0.5",
        json!({"type": "NodePort",
        "ports": [{"port": 80, "targetPort": 8080, "nodePort": 30080}]}),
    );
    let empty = service("empty", "10.43.0.7", json!({}));
    let sticky = service(
        "sticky",
        "10.43.0.8",
        json!({"sessionAffinity": "ClientIP"}),
    );
    let web_slice = slice("web", &["10.42.0.6"]);
    let sticky_slice = slice("sticky", &["10.42.0.6"]);
    let far = service("far", "10.43.0.9", json!({}));
    let far_slice = slice("far", &["10.42.1.9"]);
    proxier
        .sync_full(
            [&web, &empty, &sticky, &far],
            [&web_slice, &sticky_slice, &far_slice],
        )
        .expect("the full ruleset applies");
    let listing = run_ok(&node, &["nft", "list", "table", "ip", "r8s"]);
    assert!(
        listing.contains("chain service-default/web/tcp/80"),
        "{listing}"
    );

    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        fetch(&node, "http://10.43.0.5/").unwrap(),
        "hello from the pod\n",
        "node → ClusterIP"
    );
    assert_eq!(
        fetch(&node, "http://10.42.0.1:30080/").unwrap(),
        "hello from the pod\n",
        "node → NodePort"
    );
    assert_eq!(
        fetch(&pod, "http://10.43.0.5/").unwrap(),
        "hello from the pod\n",
        "pod → its own Service (hairpin)"
    );
    assert_eq!(
        fetch(&node, "http://10.43.0.8/").unwrap(),
        "hello from the pod\n",
        "affinity"
    );
    assert_eq!(
        fetch(&node, "http://10.43.0.9/").unwrap(),
        "hello from the remote pod\n",
        "node → ClusterIP → an endpoint on another node"
    );
    assert_eq!(
        fetch(&pod, "http://10.43.0.9/").unwrap(),
        "hello from the remote pod\n",
        "pod → ClusterIP → an endpoint on another node"
    );
    let refused = fetch(&node, "http://10.43.0.7/").unwrap_err();
    assert!(
        refused.contains("refused"),
        "a Service without endpoints rejects: {refused}"
    );
    let unserved = fetch(&node, "http://10.43.0.5:81/").unwrap_err();
    assert!(
        unserved.contains("refused"),
        "an unserved port of a ClusterIP rejects: {unserved}"
    );

    // Incremental: `empty` gains the endpoint.
    let empty_slice = slice("empty", &["10.42.0.6"]);
    let desired = render_service(Some(&empty), &[&empty_slice], &options());
    assert!(proxier
        .sync_services(BTreeMap::from([(
            ServiceKey::new("default", "empty"),
            desired
        )]))
        .expect("the partial sync applies"));
    assert_eq!(
        fetch(&node, "http://10.43.0.7/").unwrap(),
        "hello from the pod\n",
        "after a partial sync"
    );
    // ... and `web` loses it.
    let desired = render_service(Some(&web), &[], &options());
    proxier
        .sync_services(BTreeMap::from([(
            ServiceKey::new("default", "web"),
            desired,
        )]))
        .expect("the partial sync applies");
    assert!(fetch(&node, "http://10.43.0.5/")
        .unwrap_err()
        .contains("refused"));
    run_ok(&node, &["nft", "list", "table", "ip", "r8s"]);
}

#[test]
fn a_thousand_services_resync_fully_and_partially() {
    if let Some(reason) = skip_reason() {
        eprintln!("skipping: {reason}");
        return;
    }
    let node = format!("r8s-proxy-s{}", std::process::id());
    assert!(Command::new("ip")
        .args(["netns", "add", &node])
        .status()
        .unwrap()
        .success());
    let _sandbox = Sandbox {
        namespaces: vec![node.clone()],
        children: vec![],
    };
    let mut services = Vec::new();
    let mut slices = Vec::new();
    for i in 0..1000u32 {
        let name = format!("svc-{i}");
        let ip = format!("10.43.{}.{}", 1 + i / 250, 1 + i % 250);
        services.push(service(&name, &ip, json!({})));
        let ips: Vec<String> = (0..10u32)
            .map(|e| format!("10.42.{}.{}", i / 25, 1 + (i % 25) * 10 + e))
            .collect();
        let ips: Vec<&str> = ips.iter().map(String::as_str).collect();
        slices.push(slice(&name, &ips));
    }
    let started = Instant::now();
    let script = full_ruleset(&services, &slices, &options());
    let rendered = started.elapsed();
    let nft = NetnsNft {
        netns: node.clone(),
    };
    let started = Instant::now();
    nft.apply(&script).expect("the big ruleset applies");
    let applied = started.elapsed();
    eprintln!(
        "1000 services x 10 endpoints: rendered {} KiB in {rendered:?}, full resync applied in {applied:?}",
        script.len() / 1024
    );

    let mut proxier = Proxier::new(
        Arc::new(NetnsNft {
            netns: node.clone(),
        }),
        options(),
    );
    let started = Instant::now();
    proxier.sync_full(&services, &slices).unwrap();
    eprintln!(
        "1000 services x 10 endpoints: full resync replacing the same table (render + apply) in {:?}",
        started.elapsed()
    );
    let changed = slice("svc-500", &["10.42.200.1", "10.42.200.2"]);
    let started = Instant::now();
    let desired = render_service(Some(&services[500]), &[&changed], &options());
    proxier
        .sync_services(BTreeMap::from([(
            ServiceKey::new("default", "svc-500"),
            desired,
        )]))
        .unwrap();
    eprintln!(
        "1000 services x 10 endpoints: one endpoint change applied in {:?}",
        started.elapsed()
    );
}
