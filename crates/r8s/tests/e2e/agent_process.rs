//! `r8s agent` on a machine of its own (a network namespace), joined to a test server with the
//! server's token; killed and cleaned (containers, shims, pause processes, mounts) when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{tail, Server, KUBECTL};
use crate::netns::TestNetns;

/// Where agents reach a test server that listens on all its addresses.
pub const SERVER_URL: &str = "https://192.168.77.2:6443";

pub struct Agent {
    child: Option<Child>,
    pub dir: tempfile::TempDir,
    pub netns: TestNetns,
    pub token: String,
    pub node_name: String,
    pub node_ip: String,
    extra_args: Vec<String>,
    runs: u32,
}

impl Agent {
    /// An agent (not started yet) for `server` on the machine `netns` whose address is `node_ip`.
    pub fn new(
        server: &Server,
        netns: TestNetns,
        node_name: &str,
        node_ip: &str,
        extra_args: &[&str],
    ) -> Self {
        let dir = tempfile::tempdir().expect("agent temp dir");
        let images = dir.path().join("data/agent/images");
        std::fs::create_dir_all(&images).expect("agent image dir");
        std::fs::copy(
            server.data_dir().join("agent/images/busybox.tar"),
            images.join("busybox.tar"),
        )
        .expect("copy the busybox archive");
        let token = std::fs::read_to_string(server.data_dir().join("token"))
            .expect("the server's join token")
            .trim()
            .to_string();
        Agent {
            child: None,
            dir,
            netns,
            token,
            node_name: node_name.to_string(),
            node_ip: node_ip.to_string(),
            extra_args: extra_args.iter().map(|a| a.to_string()).collect(),
            runs: 0,
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn credentials_dir(&self) -> PathBuf {
        self.data_dir().join("agent/kubelet")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join(format!("agent-{}.log", self.runs))
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// `r8s agent` as a user starts it on another machine, plus the test machine's GC settings.
    pub fn agent_command(&self, token: &str, data_dir: &Path, node_name: &str) -> Command {
        let mut command = self.netns.command(env!("CARGO_BIN_EXE_r8s"));
        command
            .env(crate::node_cleanup::TEST_DIR_ENV, self.dir.path())
            .env("RUST_BACKTRACE", "0")
            .args(["agent", "--server", SERVER_URL, "--token", token])
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--node-name", node_name, "--node-ip", &self.node_ip])
            .arg("--pod-log-dir")
            .arg(self.dir.path().join("pod-logs"))
            .args(["--image-gc-high-threshold", "100"])
            .args([
                "--eviction-hard",
                "memory.available<1Mi,nodefs.available<1%",
            ])
            .args(&self.extra_args);
        command
    }

    pub fn start(&mut self) {
        self.runs += 1;
        let log = std::fs::File::create(self.log_path()).expect("agent log");
        let child = self
            .agent_command(&self.token, &self.data_dir(), &self.node_name)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start r8s agent");
        self.child = Some(child);
    }

    pub fn stop_with_sigterm(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            let deadline = Instant::now() + Duration::from_secs(15);
            while child.try_wait().ok().flatten().is_none() {
                assert!(Instant::now() < deadline, "r8s agent ignored SIGTERM");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    /// Kills the agent and removes everything it ran (the machine itself stays).
    pub fn kill_and_clean(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        crate::node_cleanup::clean_node(self.dir.path());
    }

    /// kubectl on the agent's machine with the node's own credentials.
    pub fn kubectl_as_node(&self, args: &[&str]) -> Output {
        self.netns
            .command(KUBECTL)
            .env(
                "KUBECONFIG",
                self.credentials_dir().join("kubelet.kubeconfig"),
            )
            .args(args)
            .output()
            .expect("run kubectl")
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.kill_and_clean();
    }
}

/// Whether the node's Ready condition is True.
pub fn node_ready(server: &Server, name: &str) -> bool {
    let out = server.kubectl(&[
        "get",
        "node",
        name,
        "-o",
        "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}",
    ]);
    String::from_utf8_lossy(&out.stdout) == "True"
}

/// The tails of the server's and the agents' logs, for failure messages.
pub fn logs_of(server: &Server, agents: &[&Agent]) -> String {
    let mut text = format!("server log tail:\n{}", tail(&server.log()));
    for agent in agents {
        text.push_str(&format!(
            "\nagent {} log tail:\n{}",
            agent.node_name,
            tail(&agent.log())
        ));
    }
    text
}

/// Polls `check` until it holds; past `timeout` the test fails with `logs()`.
pub fn wait_for(
    what: &str,
    timeout: Duration,
    logs: impl Fn() -> String,
    check: impl Fn() -> bool,
) {
    let deadline = Instant::now() + timeout;
    while !check() {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}\n{}",
            logs()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}
