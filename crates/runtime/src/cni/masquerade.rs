//! One node-wide masquerade rule for the whole pod CIDR, in place of the bridge plugin's `ipMasq`
//! (which adds a chain and runs iptables about five times per pod on ADD and again on DEL, every
//! call serialised by the kernel's table lock: with many pods starting at once it was the
//! bottleneck). Traffic from a pod to anything outside the pod CIDR (and not multicast) leaves
//! with the node's address, as with `ipMasq`; when the cluster CIDR is known, traffic to other
//! nodes' pods (anywhere in the cluster CIDR) keeps the pod's address too, as flannel's
//! `ip-masq` rules do.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Mutex;

use super::CniError;

/// The nat chain holding the masquerade decision.
pub const MASQUERADE_CHAIN: &str = "R8S-POD-MASQ";
const COMMENT: &str = "r8s: masquerade traffic leaving the pod CIDR";

/// Keeps the masquerade rule of a pod CIDR in place.
pub trait Masquerade: Send + Sync {
    fn ensure(&self, pod_cidr: &str) -> Result<(), CniError>;
}

/// No rule at all (tests, and runtimes that leave NAT to someone else).
#[derive(Debug, Default)]
pub struct NoMasquerade;

impl Masquerade for NoMasquerade {
    fn ensure(&self, _pod_cidr: &str) -> Result<(), CniError> {
        Ok(())
    }
}

/// The `iptables-restore` input that (re)fills the chain for `pod_cidr` (and `cluster_cidr`).
pub fn chain_rules(pod_cidr: &str, cluster_cidr: Option<&str>) -> String {
    let multicast = if pod_cidr.contains(':') {
        "ff00::/8"
    } else {
        "224.0.0.0/4"
    };
    let cluster = cluster_cidr
        .filter(|cidr| !cidr.is_empty() && cidr.contains(':') == pod_cidr.contains(':'))
        .map(|cidr| format!("-A {MASQUERADE_CHAIN} -d {cidr} -j RETURN\n"))
        .unwrap_or_default();
    format!(
        "*nat\n:{MASQUERADE_CHAIN} - [0:0]\n\
         -A {MASQUERADE_CHAIN} -d {pod_cidr} -j RETURN\n\
         {cluster}\
         -A {MASQUERADE_CHAIN} -d {multicast} -j RETURN\n\
         -A {MASQUERADE_CHAIN} -j MASQUERADE\n\
         COMMIT\n"
    )
}

/// The POSTROUTING rule that sends the pod CIDR's traffic through the chain.
pub fn jump_rule(pod_cidr: &str) -> Vec<String> {
    [
        "POSTROUTING",
        "-s",
        pod_cidr,
        "-m",
        "comment",
        "--comment",
        COMMENT,
        "-j",
        MASQUERADE_CHAIN,
    ]
    .map(str::to_owned)
    .to_vec()
}

/// Runs `iptables-restore --noflush` (the chain) and `iptables -C`/`-A` (the jump), `ip6tables`
/// for an IPv6 CIDR.
#[derive(Debug, Default)]
pub struct IptablesMasquerade {
    /// Also left unmasqueraded: the whole pod network of the cluster (every node's pod CIDR).
    cluster_cidr: Option<String>,
    /// The CIDR whose rule is known to be in place.
    done: Mutex<Option<String>>,
}

impl IptablesMasquerade {
    /// Pods keep their address towards `cluster_cidr` (other nodes' pods) as well.
    pub fn for_cluster(cluster_cidr: Option<String>) -> Self {
        Self {
            cluster_cidr,
            done: Mutex::default(),
        }
    }
}

impl Masquerade for IptablesMasquerade {
    fn ensure(&self, pod_cidr: &str) -> Result<(), CniError> {
        let mut done = self.done.lock().unwrap_or_else(|p| p.into_inner());
        if done.as_deref() == Some(pod_cidr) {
            return Ok(());
        }
        let (iptables, restore) = if pod_cidr.contains(':') {
            ("ip6tables", "ip6tables-restore")
        } else {
            ("iptables", "iptables-restore")
        };
        let failed = |what: &str, detail: String| CniError::Exec {
            plugin: what.to_owned(),
            source: std::io::Error::other(detail),
        };
        let mut child = Command::new(restore)
            .args(["--noflush", "--wait"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| failed(restore, e.to_string()))?;
        if let Some(mut input) = child.stdin.take() {
            input
                .write_all(chain_rules(pod_cidr, self.cluster_cidr.as_deref()).as_bytes())
                .map_err(|e| failed(restore, e.to_string()))?;
        }
        let output = child
            .wait_with_output()
            .map_err(|e| failed(restore, e.to_string()))?;
        if !output.status.success() {
            return Err(failed(
                restore,
                String::from_utf8_lossy(&output.stderr).into_owned(),
            ));
        }
        let run = |action: &str| {
            Command::new(iptables)
                .args(["-t", "nat", action])
                .args(jump_rule(pod_cidr))
                .arg("--wait")
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .output()
                .map_err(|e| failed(iptables, e.to_string()))
        };
        if !run("-C")?.status.success() {
            let added = run("-A")?;
            if !added.status.success() {
                return Err(failed(
                    iptables,
                    String::from_utf8_lossy(&added.stderr).into_owned(),
                ));
            }
        }
        *done = Some(pod_cidr.to_owned());
        Ok(())
    }
}

/// Remembers the CIDRs it was asked for.
#[derive(Debug, Default)]
pub struct RecordingMasquerade {
    pub ensured: Mutex<Vec<String>>,
}

impl Masquerade for RecordingMasquerade {
    fn ensure(&self, pod_cidr: &str) -> Result<(), CniError> {
        self.ensured
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(pod_cidr.to_owned());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_returns_for_pod_and_multicast_destinations_then_masquerades() {
        assert_eq!(
            chain_rules("10.42.0.0/24", None),
            "*nat\n:R8S-POD-MASQ - [0:0]\n-A R8S-POD-MASQ -d 10.42.0.0/24 -j RETURN\n\
             -A R8S-POD-MASQ -d 224.0.0.0/4 -j RETURN\n-A R8S-POD-MASQ -j MASQUERADE\nCOMMIT\n"
        );
        assert!(chain_rules("fd00::/64", None).contains("-d ff00::/8 -j RETURN"));
        let jump = jump_rule("10.42.0.0/24");
        assert_eq!(jump[..3], ["POSTROUTING", "-s", "10.42.0.0/24"]);
        assert_eq!(jump.last().map(String::as_str), Some(MASQUERADE_CHAIN));
    }

    #[test]
    fn traffic_to_other_nodes_pods_keeps_the_pod_address_when_the_cluster_cidr_is_known() {
        assert_eq!(
            chain_rules("10.42.1.0/24", Some("10.42.0.0/16")),
            "*nat\n:R8S-POD-MASQ - [0:0]\n-A R8S-POD-MASQ -d 10.42.1.0/24 -j RETURN\n\
             -A R8S-POD-MASQ -d 10.42.0.0/16 -j RETURN\n\
             -A R8S-POD-MASQ -d 224.0.0.0/4 -j RETURN\n-A R8S-POD-MASQ -j MASQUERADE\nCOMMIT\n"
        );
        // A cluster CIDR of the other family, or an empty one, adds nothing.
        assert_eq!(
            chain_rules("fd00::/64", Some("10.42.0.0/16")),
            chain_rules("fd00::/64", None)
        );
        assert_eq!(
            chain_rules("10.42.1.0/24", Some("")),
            chain_rules("10.42.1.0/24", None)
        );
    }

    /// Real iptables in a network namespace of the test's own.
    #[test]
    fn the_rules_are_accepted_by_iptables_in_a_private_netns() {
        if !nix::unistd::Uid::effective().is_root()
            || Command::new("iptables").arg("--version").output().is_err()
            || Command::new("ip").arg("-V").output().is_err()
        {
            eprintln!("skipping: needs root, iptables and ip");
            return;
        }
        let name = format!("r8s-test-masq-{}", rand::random::<u32>());
        let ok = Command::new("ip")
            .args(["netns", "add", &name])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "ip netns add");
        let in_netns = |args: &[&str]| {
            Command::new("ip")
                .args(["netns", "exec", &name])
                .args(args)
                .output()
                .unwrap()
        };
        // The effect acts on this process's netns: feed the same rules to iptables in the test's.
        let mut restore = Command::new("ip")
            .args(["netns", "exec", &name, "iptables-restore", "--noflush"])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        restore
            .stdin
            .take()
            .unwrap()
            .write_all(chain_rules("10.42.0.0/24", Some("10.42.0.0/16")).as_bytes())
            .unwrap();
        let restored = restore.wait().unwrap().success();
        let mut append = vec!["iptables", "-t", "nat", "-A"];
        let jump = jump_rule("10.42.0.0/24");
        append.extend(jump.iter().map(String::as_str));
        let appended = in_netns(&append).status.success();
        let listed = String::from_utf8_lossy(&in_netns(&["iptables", "-t", "nat", "-S"]).stdout)
            .into_owned();
        let _ = Command::new("ip").args(["netns", "del", &name]).status();
        assert!(restored && appended, "{listed}");
        assert!(listed.contains("-A R8S-POD-MASQ -j MASQUERADE"), "{listed}");
        assert!(
            listed.contains("-A R8S-POD-MASQ -d 10.42.0.0/16 -j RETURN"),
            "{listed}"
        );
        assert!(
            listed.contains("-A POSTROUTING -s 10.42.0.0/24"),
            "{listed}"
        );
    }
}
