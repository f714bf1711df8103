//! Two "nodes" (network namespaces joined by a veth pair), each with a "pod" (a namespace with a
//! veth to the node's bridge): the programmer, fed the two Node objects, makes the pods reach each
//! other, with VXLAN and with host-gw. Everything happens in namespaces this test creates.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::process::Command;

use k8s_openapi::api::core::v1::{Node, NodeAddress, NodeSpec, NodeStatus};
use podnetwork::{Backend, IpRoute2, NetTools, Programmer, Subnet, VXLAN_MAC_ANNOTATION};

struct Namespaces {
    names: Vec<String>,
}

impl Namespaces {
    fn path(&self, index: usize) -> String {
        format!("/run/netns/{}", self.names[index])
    }

    fn run(&self, index: usize, command: &str) -> String {
        let args: Vec<&str> = command.split_whitespace().collect();
        let output = Command::new("nsenter")
            .arg(format!("--net={}", self.path(index)))
            .arg("--")
            .args(&args)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{command} in {}: {}",
            self.names[index],
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn succeeds(&self, index: usize, command: &str) -> bool {
        let args: Vec<&str> = command.split_whitespace().collect();
        Command::new("nsenter")
            .arg(format!("--net={}", self.path(index)))
            .arg("--")
            .args(&args)
            .output()
            .is_ok_and(|o| o.status.success())
    }
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        for name in &self.names {
            let _ = Command::new("ip").args(["netns", "del", name]).status();
        }
    }
}

const NODE_A: usize = 0;
const NODE_B: usize = 1;
const POD_A: usize = 2;
const POD_B: usize = 3;

/// node A 192.168.200.1 (pods 10.42.0.0/24) ── veth ── node B 192.168.200.2 (pods 10.42.1.0/24);
/// pod A 10.42.0.2 on node A's bridge, pod B 10.42.1.2 on node B's.
fn two_nodes(tag: &str) -> Option<Namespaces> {
    let root = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&root.stdout).trim() != "0"
        || Command::new("ip").arg("-V").output().is_err()
        || Command::new("busybox").arg("true").output().is_err()
    {
        eprintln!("skipping: needs root, ip and busybox");
        return None;
    }
    let unique = format!(
        "{}{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
            % 100_000
    );
    let names: Vec<String> = ["na", "nb", "pa", "pb"]
        .iter()
        .map(|role| format!("r8s-podnet-{tag}-{unique}-{role}"))
        .collect();
    for name in &names {
        let added = Command::new("ip").args(["netns", "add", name]).status();
        assert!(added.is_ok_and(|s| s.success()), "ip netns add {name}");
    }
    let ns = Namespaces { names };
    for index in 0..4 {
        ns.run(index, "ip link set lo up");
    }
    ns.run(
        NODE_A,
        &format!(
            "ip link add eth0 type veth peer name eth0 netns {}",
            ns.names[NODE_B]
        ),
    );
    for (node, pod, ip, third) in [(NODE_A, POD_A, 1, 0), (NODE_B, POD_B, 2, 1)] {
        ns.run(node, &format!("ip addr add 192.168.200.{ip}/24 dev eth0"));
        ns.run(node, "ip link set eth0 up");
        ns.run(node, "ip link add br0 type bridge");
        ns.run(node, &format!("ip addr add 10.42.{third}.1/24 dev br0"));
        ns.run(node, "ip link set br0 up");
        ns.run(
            pod,
            &format!(
                "ip link add eth0 type veth peer name veth0 netns {}",
                ns.names[node]
            ),
        );
        ns.run(node, "ip link set veth0 master br0 up");
        ns.run(pod, &format!("ip addr add 10.42.{third}.2/24 dev eth0"));
        ns.run(pod, "ip link set eth0 up");
        ns.run(pod, &format!("ip route add default via 10.42.{third}.1"));
    }
    Some(ns)
}

fn node(name: &str, pod_cidr: &str, ip: &str, mac: Option<&str>) -> Node {
    let mut node = Node::default();
    node.metadata.name = Some(name.into());
    node.metadata.annotations =
        mac.map(|mac| BTreeMap::from([(VXLAN_MAC_ANNOTATION.to_owned(), mac.to_owned())]));
    node.spec = Some(NodeSpec {
        pod_cidr: Some(pod_cidr.into()),
        ..NodeSpec::default()
    });
    node.status = Some(NodeStatus {
        addresses: Some(vec![NodeAddress {
            type_: "InternalIP".into(),
            address: ip.into(),
        }]),
        ..NodeStatus::default()
    });
    node
}

fn programmers(ns: &Namespaces, backend: Backend) -> [Programmer<IpRoute2>; 2] {
    [("a", NODE_A, 1), ("b", NODE_B, 2)].map(|(name, index, ip)| {
        let tools = IpRoute2::in_namespace(ns.path(index));
        tools.enable_ip_forwarding().unwrap();
        Programmer {
            tools,
            backend,
            node_name: name.into(),
            node_ip: Ipv4Addr::new(192, 168, 200, ip),
            cluster: Subnet::parse("10.42.0.0/16"),
        }
    })
}

fn pods_reach_each_other(ns: &Namespaces) -> bool {
    ns.succeeds(POD_A, "busybox ping -c 2 -W 2 10.42.1.2")
        && ns.succeeds(POD_B, "busybox ping -c 2 -W 2 10.42.0.2")
}

#[test]
fn vxlan_carries_pod_traffic_between_nodes_and_a_removed_node_leaves_nothing() {
    let Some(ns) = two_nodes("vx") else { return };
    assert!(
        !pods_reach_each_other(&ns),
        "pods reach each other before any programming"
    );
    let [a, b] = programmers(&ns, Backend::Vxlan);
    // First pass: devices only (no MAC published yet).
    let unannotated = [
        node("a", "10.42.0.0/24", "192.168.200.1", None),
        node("b", "10.42.1.0/24", "192.168.200.2", None),
    ];
    let mac_a = a.sync(&unannotated).unwrap().vxlan_mac.unwrap();
    let mac_b = b.sync(&unannotated).unwrap().vxlan_mac.unwrap();
    let nodes = [
        node("a", "10.42.0.0/24", "192.168.200.1", Some(&mac_a)),
        node("b", "10.42.1.0/24", "192.168.200.2", Some(&mac_b)),
    ];
    a.sync(&nodes).unwrap();
    b.sync(&nodes).unwrap();
    let device = ns.run(NODE_A, "ip -d link show r8s.1");
    assert!(device.contains("mtu 1450"), "{device}");
    assert!(device.contains("vxlan id 1"), "{device}");
    assert!(device.contains("dstport 8472"), "{device}");
    assert!(ns
        .run(NODE_A, "ip addr show dev r8s.1")
        .contains("10.42.0.0/32"));
    assert!(pods_reach_each_other(&ns), "pod to pod over VXLAN");
    // The pod's address is kept end to end.
    assert!(ns.succeeds(POD_A, "busybox ping -c 1 -W 2 -I 10.42.0.2 10.42.1.2"));

    // Node b goes away: node a drops its route, neighbor and forwarding entry.
    a.sync(&nodes[..1]).unwrap();
    assert_eq!(ns.run(NODE_A, "ip route show proto 82").trim(), "");
    assert_eq!(
        ns.run(NODE_A, "ip neigh show dev r8s.1 nud permanent")
            .trim(),
        ""
    );
    assert!(!ns.run(NODE_A, "bridge fdb show dev r8s.1").contains(&mac_b));
    assert!(!pods_reach_each_other(&ns));
}

#[test]
fn host_gw_routes_pod_subnets_via_node_addresses() {
    let Some(ns) = two_nodes("gw") else { return };
    let [a, b] = programmers(&ns, Backend::HostGw);
    let nodes = [
        node("a", "10.42.0.0/24", "192.168.200.1", None),
        node("b", "10.42.1.0/24", "192.168.200.2", None),
    ];
    a.sync(&nodes).unwrap();
    b.sync(&nodes).unwrap();
    let routes = ns.run(NODE_A, "ip route show proto 82");
    assert_eq!(routes.trim(), "10.42.1.0/24 via 192.168.200.2 dev eth0");
    assert!(pods_reach_each_other(&ns), "pod to pod over host-gw");
    // A second pass changes nothing and keeps working.
    a.sync(&nodes).unwrap();
    assert!(pods_reach_each_other(&ns));
    a.sync(&[]).unwrap();
    assert_eq!(ns.run(NODE_A, "ip route show proto 82").trim(), "");
}
