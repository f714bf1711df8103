//! A cluster of three machines: `r8s server` (control plane only) and two `r8s agent`s, each in a
//! network namespace of its own, joined by a bridge in a fourth namespace (the switch). No
//! namespace has a default route, so every packet stays inside namespaces the test created.

use std::time::Duration;

use crate::agent_process::{logs_of, node_ready, wait_for, Agent};
use crate::harness::Server;
use crate::netns::{TestNetns, NODE_IP};

/// The agents' node names and addresses.
pub const AGENTS: [(&str, &str); 2] = [
    ("r8s-e2e-a1", "192.168.77.3"),
    ("r8s-e2e-a2", "192.168.77.4"),
];

/// Fields drop in order: agents (their containers) first, then the server, then the switch.
pub struct Cluster {
    pub agents: Vec<Agent>,
    pub server: Server,
    _switch: TestNetns,
}

impl Cluster {
    /// Starts the server and both agents (`--pod-network pod_network`) and waits until both nodes
    /// are Ready.
    pub fn start(pod_network: &str) -> Self {
        let switch = TestNetns::switch();
        let server_machine = TestNetns::bare();
        server_machine.plug_into(&switch, "sw-server", NODE_IP);
        let server = Server::start_in(
            server_machine,
            &[
                "--bind-address",
                "0.0.0.0",
                "--node-ip",
                NODE_IP,
                "--disable-agent",
            ],
        );
        let mut agents = Vec::new();
        for (index, (name, ip)) in AGENTS.iter().enumerate() {
            let machine = TestNetns::bare();
            machine.plug_into(&switch, &format!("sw-agent{index}"), ip);
            let mut agent = Agent::new(&server, machine, name, ip, &["--pod-network", pod_network]);
            agent.start();
            agents.push(agent);
        }
        let cluster = Cluster {
            agents,
            server,
            _switch: switch,
        };
        wait_for(
            "both agents' nodes Ready",
            Duration::from_secs(90),
            || cluster.logs(),
            || {
                AGENTS
                    .iter()
                    .all(|(name, _)| node_ready(&cluster.server, name))
            },
        );
        cluster
    }

    pub fn logs(&self) -> String {
        let agents: Vec<&Agent> = self.agents.iter().collect();
        logs_of(&self.server, &agents)
    }

    /// `wget -qO- url` from `pod` (busybox's own `wget -T` crashes, so `timeout` bounds it); the
    /// body, or None when it fails.
    pub fn fetch_from_pod(&self, pod: &str, url: &str) -> Option<String> {
        let out = self
            .server
            .kubectl(&["exec", pod, "--", "timeout", "3", "wget", "-qO-", url]);
        out.status.success().then(|| stdout_text(&out))
    }

    /// `curl -s --max-time 3 <args>` on the server's machine: the body, or None when it fails.
    pub fn curl(&self, args: &[&str]) -> Option<String> {
        let out = self
            .server
            .command("curl")
            .args(["-s", "--max-time", "3"])
            .args(args)
            .output()
            .expect("run curl");
        out.status.success().then(|| stdout_text(&out))
    }

    /// Polls `check` until it holds; past `timeout` the test fails with every machine's log.
    pub fn wait_for(&self, what: &str, timeout: Duration, check: impl Fn() -> bool) {
        wait_for(what, timeout, || self.logs(), check)
    }
}

/// A command's stdout, trimmed.
pub fn stdout_text(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}
